/**
 * Presets: a layer between the defaults and the config file (the file's and
 * the flags' keys win), chosen by the flag or the file; and their patterns,
 * which must pick each platform's disks out of its folders and nothing else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/config.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { PRESET_NAMES, presetLayer } from '../../../src/config/presets.js';
import { globMatcher } from '../../../src/crawl/glob-match.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-presets-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(content: unknown): string {
  const file = fs.mkdtempSync(path.join(dir, 'c-')) + '/imgaudit.json';
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('loadConfig with a preset', () => {
  it('has none by default: every file is a candidate, raw only by name', () => {
    const config = loadConfig({ cwd: dir });
    expect(config.preset).toBeNull();
    expect(config.include).toEqual(['**/*']);
    expect(config.rawPatterns).toEqual(DEFAULT_CONFIG.rawPatterns);
    expect(config.roots).toEqual([]);
  });

  it('takes the platform root, patterns and references from the flag', () => {
    const config = loadConfig({ cwd: dir, flags: { preset: 'openstack' } });
    expect(config.roots).toEqual(['/var/lib/nova/instances']);
    expect(config.rawPatterns).toContain('_base/*');
    expect(config.exclude).toContain('locks/**');
    expect(loadConfig({ cwd: dir, flags: { preset: 'libvirt' } }).references.libvirtDomainDirs).toEqual(['/etc/libvirt/qemu']);
  });

  it('takes it from the file; the flag wins over the file, and ROOT arguments over the preset roots', () => {
    const file = writeConfig({ preset: 'ovirt' });
    expect(loadConfig({ cwd: dir, file }).roots).toEqual(['/rhev/data-center/mnt']);
    const both = loadConfig({ cwd: dir, file, flags: { preset: 'proxmox', roots: ['/srv/vz'] } });
    expect(both.preset).toBe('proxmox');
    expect(both.roots).toEqual(['/srv/vz']);
    expect(both.include).toEqual(['**/images/*/*']);
    expect(both.exclude).toEqual([]);
  });

  it("lets the file's own keys win over the preset's, key by key", () => {
    const file = writeConfig({ preset: 'openstack', roots: ['nova'], rawPatterns: ['_base/*'] });
    const config = loadConfig({ cwd: dir, file });
    expect(config.roots).toEqual([path.join(path.dirname(file), 'nova')]);
    expect(config.rawPatterns).toEqual(['_base/*']);
    expect(config.exclude).toContain('*/disk.info');
  });

  it('names the key of an unknown preset', () => {
    const file = writeConfig({ preset: 'vmware' });
    expect(() => loadConfig({ cwd: dir, file })).toThrow(`${file}: 'preset': expected one of`);
    expect(() => loadConfig({ cwd: dir, flags: { preset: 'xen' }, flagNames: { preset: '--preset' } })).toThrow('--preset: expected one of');
  });

  it('hands out a copy: changing it changes no later preset', () => {
    presetLayer('openstack').rawPatterns!.push('**/*');
    expect(presetLayer('openstack').rawPatterns).not.toContain('**/*');
  });
});

/** Does `relative` under a preset's root become a candidate, and a raw one? */
function sees(name: (typeof PRESET_NAMES)[number]) {
  const layer = { ...DEFAULT_CONFIG, ...presetLayer(name) };
  const included = globMatcher(layer.include);
  const excluded = globMatcher(layer.exclude.flatMap((glob) => glob.endsWith('/**') ? [glob, `${glob.slice(0, -3)}`] : [glob]));
  const raw = globMatcher(layer.rawPatterns);
  return (relative: string): 'raw' | 'by magic' | 'not a candidate' => {
    const isCandidate = included(relative) && !excluded(relative)
      && !relative.split('/').some((_, i, parts) => excluded(parts.slice(0, i + 1).join('/')));
    if (!isCandidate) return 'not a candidate';
    return raw(relative) ? 'raw' : 'by magic';
  };
}

describe('preset patterns', () => {
  it('openstack: instance disks and cached bases raw; Nova\'s own files not', () => {
    const see = sees('openstack');
    const uuid = '0b5c3a52-8a44-4d0e-9d52-1f0c0f5e2a01';
    for (const disk of ['disk', 'disk.local', 'disk.swap', 'disk.eph0', 'disk.eph12', 'disk.config', 'disk.rescue']) {
      expect(see(`${uuid}/${disk}`), disk).toBe('raw');
    }
    expect(see('_base/a9993e364706816aba3e25717850c26c9cd0d89d')).toBe('raw');
    expect(see('_base/ephemeral_1_0706d66')).toBe('raw');
    expect(see(`${uuid}/disk.info`)).toBe('not a candidate');
    expect(see(`${uuid}/console.log`)).toBe('not a candidate');
    expect(see('locks/nova-storage-registry-lock')).toBe('not a candidate');
    expect(see(`${uuid}/kernel`)).toBe('by magic');
    expect(see(`${uuid}/disk.ephemeral`)).toBe('by magic');
  });

  it('ovirt: volumes by their UUID names, raw; metadata, leases, sanlock files and ISOs not', () => {
    const see = sees('ovirt');
    const volume = 'nfs.example.com:_exports_data/5e2b1c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b/images/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d/0f1e2d3c-4b5a-4968-8776-655443322110';
    expect(see(volume)).toBe('raw');
    expect(see(`glusterSD/gluster:_vmstore/${volume.split('/').slice(1).join('/')}`)).toBe('raw');
    expect(see(`${volume}.meta`)).toBe('not a candidate');
    expect(see(`${volume}.lease`)).toBe('not a candidate');
    expect(see('nfs.example.com:_exports_data/5e2b1c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b/dom_md/leases')).toBe('not a candidate');
    expect(see('iso:_iso/7a4d3e1c-5b6f-4071-8c1d-2e3f4a5b6c7d/images/11111111-1111-1111-1111-111111111111/CentOS-7-x86_64-Minimal-2009.iso'))
      .toBe('by magic');
    expect(see('nfs:_data/5e2b1c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b/master/vms/x/x.ovf')).toBe('not a candidate');
  });

  it('proxmox: images/<vmid>/* only, raw by extension', () => {
    const see = sees('proxmox');
    expect(see('images/101/vm-101-disk-0.qcow2')).toBe('by magic');
    expect(see('images/102/vm-102-disk-0.raw')).toBe('raw');
    expect(see('nfs-store/images/103/vm-103-disk-0.raw')).toBe('raw');
    expect(see('template/iso/jammy-server-cloudimg-amd64.img')).toBe('not a candidate');
    expect(see('dump/vzdump-qemu-101-2026_11_30-01_00_00.vma.zst')).toBe('not a candidate');
  });
});
