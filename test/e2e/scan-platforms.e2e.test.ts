/**
 * `imgaudit scan` over the layouts each platform keeps its images in, built
 * with real qemu-img: OpenStack Nova (instances/<uuid>/disk over _base/<hash>),
 * oVirt/RHV file domains (images/<group>/<volume> beside .meta and .lease),
 * Proxmox directory storage (images/<vmid>/vm-<vmid>-disk-<n>.*) and a
 * libvirt pool with extension-less disks. By default the candidates are found
 * by their magic whatever their names; each `--preset` adds the platform's
 * raw volumes (found by path) and leaves out what is not a disk. A root
 * under which nothing is an image is a finding.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, hasQemu, io, op, runOk } from '../support/qemu.js';
import { CLI, expectedFigures, readDb, requireBuild, runCli, storedFigures } from './scan-support.js';

const MiB = 1 << 20;

interface Layout {
  root: string;
  /** Images a default scan (magic only, raw by name) finds, relative to the root. */
  byContent: string[];
  /** Images the platform's preset finds. */
  byPreset: string[];
}

function write(file: string, text: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function qemu(root: string, relative: string, fmt: string, size: string, ops: string[] = [],
  backing?: { file: string; fmt: string }): void {
  // Absolute: "nfs.example.com:_export/..." would otherwise name a protocol to qemu-img.
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  runOk(create(file, fmt, backing === undefined ? size : undefined, {}, backing), root);
  if (ops.length > 0) runOk(io(file, fmt, ops), root);
}

/** /var/lib/nova/instances with the libvirt driver's qcow2 images over raw cached bases. */
function nova(root: string): Layout {
  const hash = 'a9993e364706816aba3e25717850c26c9cd0d89d';
  qemu(root, `_base/${hash}`, 'raw', '64M', [op.write(0, 8 * MiB, 0x11)]);
  qemu(root, '_base/ephemeral_1_0706d66', 'raw', '32M', [op.write(0, MiB, 0x12)]);
  const uuids = ['0b5c3a52-8a44-4d0e-9d52-1f0c0f5e2a01', '7f1f6c0e-25a8-4ab4-8a3d-3c2a7b9d4e02', 'c3d1e8f2-5b6a-4c7d-9e8f-0a1b2c3d4e03'];
  // Nova names backing files by absolute path.
  qemu(root, `${uuids[0]}/disk`, 'qcow2', '', [op.write(0, MiB, 0x21)], { file: path.join(root, '_base', hash), fmt: 'raw' });
  qemu(root, `${uuids[0]}/disk.config`, 'raw', '1M', [op.write(0, 64 * 1024, 0x43)]);
  qemu(root, `${uuids[1]}/disk`, 'qcow2', '', [op.write(4 * MiB, 2 * MiB, 0x22)], { file: path.join(root, '_base', hash), fmt: 'raw' });
  qemu(root, `${uuids[1]}/disk.local`, 'qcow2', '', [op.write(0, MiB, 0x23)],
    { file: path.join(root, '_base/ephemeral_1_0706d66'), fmt: 'raw' });
  qemu(root, `${uuids[2]}/disk`, 'raw', '16M', [op.write(0, 2 * MiB, 0x24)]); // images_type = raw
  for (const uuid of uuids) {
    write(path.join(root, uuid, 'disk.info'), JSON.stringify({ [path.join(root, uuid, 'disk')]: 'qcow2' }));
    write(path.join(root, uuid, 'console.log'), '[    0.000000] Linux version 6.1.0\n');
  }
  write(path.join(root, 'locks/nova-storage-registry-lock'), '');
  write(path.join(root, 'compute_nodes'), '{"compute-1": 1765000000.0}');
  const qcow2 = [`${uuids[0]}/disk`, `${uuids[1]}/disk`, `${uuids[1]}/disk.local`];
  return {
    root,
    byContent: qcow2,
    byPreset: [...qcow2, `_base/${hash}`, '_base/ephemeral_1_0706d66', `${uuids[0]}/disk.config`, `${uuids[2]}/disk`],
  };
}

/** /rhev/data-center/mnt with an NFS and a GlusterFS file domain and an ISO domain. */
function ovirt(root: string): Layout {
  const sd = 'nfs.example.com:_exports_data/5e2b1c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b';
  const gluster = 'glusterSD/gluster.example.com:_vmstore/6f3c2d0b-4a5e-4f60-9b0c-1d2e3f4a5b6c';
  const iso = 'nfs.example.com:_exports_iso/7a4d3e1c-5b6f-4071-8c1d-2e3f4a5b6c7d';
  const group1 = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
  const group2 = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
  const group3 = 'c3d4e5f6-a7b8-4c9d-0e1f-2a3b4c5d6e7f';
  const base = `${sd}/images/${group1}/0f1e2d3c-4b5a-4968-8776-655443322110`;
  const snapshot = `${sd}/images/${group1}/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;
  const thin = `${sd}/images/${group2}/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e`;
  const rawOnGluster = `${gluster}/images/${group3}/3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f`;
  qemu(root, base, 'raw', '64M', [op.write(0, 4 * MiB, 0x31)]);
  // oVirt names the backing volume by its bare UUID, in the same directory.
  qemu(root, snapshot, 'qcow2', '', [op.write(MiB, MiB, 0x32)], { file: path.basename(base), fmt: 'raw' });
  qemu(root, thin, 'qcow2', '64M', [op.write(0, 3 * MiB, 0x33)]);
  qemu(root, rawOnGluster, 'raw', '32M', [op.write(0, MiB, 0x34)]);
  for (const volume of [base, snapshot, thin, rawOnGluster]) {
    write(path.join(root, `${volume}.meta`), 'CAP=67108864\nFORMAT=RAW\nVOLTYPE=LEAF\nEOF\n');
    write(path.join(root, `${volume}.lease`), Buffer.alloc(1 * MiB));
  }
  for (const domain of [sd, gluster, iso]) {
    for (const name of ['ids', 'inbox', 'outbox', 'metadata', 'leases', 'xleases']) {
      write(path.join(root, domain, 'dom_md', name), Buffer.alloc(4096, name === 'metadata' ? 0x41 : 0));
    }
  }
  write(path.join(root, sd, 'master/vms/d4e5f6a7-b8c9-4d0e-1f2a-3b4c5d6e7f80/d4e5f6a7-b8c9-4d0e-1f2a-3b4c5d6e7f80.ovf'), '<ovf:Envelope/>');
  // An ISO domain: install media under the well-known image group, named by file name.
  write(path.join(root, iso, 'images/11111111-1111-1111-1111-111111111111/CentOS-7-x86_64-Minimal-2009.iso'), Buffer.alloc(64 * 1024, 0x20));
  return { root, byContent: [snapshot, thin], byPreset: [base, snapshot, thin, rawOnGluster] };
}

/** /var/lib/vz: a template with a linked clone, a VM with raw and vmdk disks, ISOs, backups. */
function proxmox(root: string): Layout {
  qemu(root, 'images/100/base-100-disk-0.qcow2', 'qcow2', '64M', [op.write(0, 4 * MiB, 0x51)]);
  // A linked clone names its base relative to its own directory.
  qemu(root, 'images/101/vm-101-disk-0.qcow2', 'qcow2', '', [op.write(2 * MiB, MiB, 0x52)],
    { file: '../100/base-100-disk-0.qcow2', fmt: 'qcow2' });
  qemu(root, 'images/101/vm-101-cloudinit.qcow2', 'qcow2', '4M', [op.write(0, 64 * 1024, 0x53)]);
  qemu(root, 'images/102/vm-102-disk-0.raw', 'raw', '32M', [op.write(0, MiB, 0x54)]);
  qemu(root, 'images/102/vm-102-disk-1.vmdk', 'vmdk', '32M', [op.write(0, MiB, 0x55)]);
  // A cloud image uploaded as ISO storage content: qcow2 inside, .img outside; install media, not a disk.
  qemu(root, 'template/iso/jammy-server-cloudimg-amd64.img', 'qcow2', '64M', [op.write(0, MiB, 0x56)]);
  write(path.join(root, 'template/iso/debian-12.5.0-amd64-netinst.iso'), Buffer.alloc(64 * 1024, 0x20));
  write(path.join(root, 'template/cache/debian-12-standard_12.2-1_amd64.tar.zst'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
  write(path.join(root, 'dump/vzdump-qemu-101-2026_11_30-01_00_00.vma.zst'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]));
  write(path.join(root, 'dump/vzdump-qemu-101-2026_11_30-01_00_00.log'), 'INFO: starting new backup job\n');
  write(path.join(root, 'snippets/user-data.yaml'), '#cloud-config\n');
  const disks = ['images/100/base-100-disk-0.qcow2', 'images/101/vm-101-disk-0.qcow2', 'images/101/vm-101-cloudinit.qcow2',
    'images/102/vm-102-disk-0.raw', 'images/102/vm-102-disk-1.vmdk'];
  return { root, byContent: [...disks, 'template/iso/jammy-server-cloudimg-amd64.img'], byPreset: disks };
}

/** /var/lib/libvirt/images with disks named by virt-install and by hand, some without extension. */
function libvirt(root: string): Layout {
  qemu(root, 'debian12.qcow2', 'qcow2', '64M', [op.write(0, 2 * MiB, 0x61)]);
  qemu(root, 'web01', 'qcow2', '', [op.write(MiB, MiB, 0x62)], { file: 'debian12.qcow2', fmt: 'qcow2' });
  qemu(root, 'web01-data.img', 'raw', '16M', [op.write(0, MiB, 0x63)]);
  qemu(root, 'win2022-disk0', 'vpc', '64M', [op.write(0, MiB, 0x64)]);
  write(path.join(root, 'debian-12.5.0-amd64-netinst.iso'), Buffer.alloc(64 * 1024, 0x20));
  write(path.join(root, 'web01.xml.bak'), '<domain type="kvm"/>\n');
  const images = ['debian12.qcow2', 'web01', 'web01-data.img', 'win2022-disk0'];
  return { root, byContent: images, byPreset: images };
}

describe.skipIf(!hasQemu)('imgaudit scan: where each platform keeps its images (e2e)', () => {
  let dir: string;
  const layouts: Record<string, Layout> = {};

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-platforms-'));
    const builders = { openstack: nova, ovirt, proxmox, libvirt };
    for (const [name, build] of Object.entries(builders)) layouts[name] = build(path.join(dir, name));
    runOk(['sync'], dir);
  });
  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Scans `root` into a fresh database; returns the exit status, stderr, images and findings. */
  function scan(name: string, root: string, args: string[] = []) {
    const dbFile = path.join(dir, `${name}.db`);
    fs.rmSync(dbFile, { force: true });
    // No references: the libvirt preset's /etc/libvirt/qemu is not this machine's business.
    const config = path.join(dir, `${name}.json`);
    fs.writeFileSync(config, JSON.stringify({ references: { libvirtDomainDirs: [] } }));
    const result = runCli(['scan', '-c', config, '--db', dbFile, ...args, root], dir);
    return readDb(dbFile, (db) => ({
      status: result.status,
      stderr: result.stderr,
      images: db.prepare('SELECT path FROM run_image_states WHERE run_id = 1 ORDER BY path').pluck().all() as string[],
      formats: Object.fromEntries((db.prepare('SELECT path, format FROM run_image_states WHERE run_id = 1').all() as
        { path: string; format: string }[]).map((row) => [path.relative(root, row.path), row.format])),
      findings: db.prepare('SELECT code, path FROM run_findings_all WHERE run_id = 1 ORDER BY code, path').all() as
        { code: string; path: string }[],
      db: (query: (d: Parameters<Parameters<typeof readDb>[1]>[0]) => unknown) => readDb(dbFile, query),
    }));
  }

  const sorted = (root: string, relative: readonly string[]) => relative.map((file) => path.join(root, file)).sort();

  it.each(['openstack', 'ovirt', 'proxmox', 'libvirt'])('%s: a default scan finds every image with a magic, whatever its name', (name) => {
    const { root, byContent } = layouts[name]!;
    const result = scan(`${name}-default`, root);
    expect(result.status, result.stderr).toBe(0);
    expect(result.images).toEqual(sorted(root, byContent));
    expect(result.findings).toEqual([]);
  });

  it.each(['openstack', 'ovirt', 'proxmox', 'libvirt'])('%s: --preset adds the raw volumes by path and leaves out what is not a disk', (name) => {
    const { root, byPreset } = layouts[name]!;
    const result = scan(`${name}-preset`, root, ['--preset', name]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.images).toEqual(sorted(root, byPreset));
    expect(result.findings).toEqual([]);
    // The figures of every image are qemu-img's.
    readDb(path.join(dir, `${name}-preset.db`), (db) => {
      for (const image of result.images) expect(storedFigures(db, 1, image), image).toEqual(expectedFigures(image));
    });
  });

  it('openstack: the raw cached bases are audited as raw, the instance disks as qcow2 reading them at depth 1', () => {
    const { root } = layouts.openstack!;
    const result = scan('openstack-formats', root, ['--preset', 'openstack']);
    const bases = Object.entries(result.formats).filter(([file]) => file.startsWith('_base/'));
    expect(bases.map(([, format]) => format)).toEqual(['raw', 'raw']);
    const depths = result.db((db) => db.prepare(`SELECT DISTINCT layer_path FROM run_image_depths
      WHERE run_id = 1 AND depth = 1 ORDER BY layer_path`).pluck().all());
    expect(depths).toEqual([path.join(root, '_base/a9993e364706816aba3e25717850c26c9cd0d89d'),
      path.join(root, '_base/ephemeral_1_0706d66')]);
  });

  it('a config file sets the preset too, and its own keys win over the preset', () => {
    const { root } = layouts.proxmox!;
    const config = path.join(dir, 'proxmox-own.json');
    fs.writeFileSync(config, JSON.stringify({ preset: 'proxmox', include: ['**/*'], roots: [root] }));
    const dbFile = path.join(dir, 'proxmox-own.db');
    const result = runCli(['scan', '-c', config, '--db', dbFile], dir);
    expect(result.status, result.stderr).toBe(0);
    const images = readDb(dbFile, (db) => db.prepare('SELECT path FROM run_image_states').pluck().all());
    expect(images).toContain(path.join(root, 'template/iso/jammy-server-cloudimg-amd64.img'));
  });

  // Root reads every file: the scan runs as nobody to meet a file it cannot read.
  it.skipIf(process.getuid?.() !== 0)('a file it cannot read is a failed image when named like one, otherwise a warning', () => {
    const root = path.join(dir, 'unreadable');
    const db = path.join(dir, 'unreadable-db');
    qemu(root, 'disk', 'qcow2', '16M');
    write(path.join(root, 'secret.log'), 'not for everyone\n');
    fs.mkdirSync(db);
    fs.chmodSync(dir, 0o755);
    fs.chownSync(db, 65534, 65534);
    for (const [file, mode] of [['.', 0o755], ['disk', 0o644], ['secret.log', 0o600]] as const) fs.chmodSync(path.join(root, file), mode);
    const asNobody = (...args: string[]) => spawnSync(process.execPath, [CLI, 'scan', '--db', path.join(db, 'a.db'), ...args, root],
      { uid: 65534, gid: 65534, encoding: 'utf8' });
    const result = asNobody('--fail-on', 'warning');
    expect(result.status, result.stderr).toBe(1);
    const findings = readDb(path.join(db, 'a.db'), (d) => d.prepare('SELECT code, path, severity FROM run_findings_all').all());
    expect(findings).toEqual([{ code: 'E_CANDIDATE_UNREADABLE', path: path.join(root, 'secret.log'), severity: 'warning' }]);
    expect(asNobody().status).toBe(0);
    // Named like an image, the same file is an image that could not be opened: an error.
    fs.renameSync(path.join(root, 'secret.log'), path.join(root, 'secret.qcow2'));
    const named = asNobody();
    expect(named.status).toBe(1);
    expect(named.stderr).toMatch(/secret\.qcow2.*Permission denied \[E_OPEN\]/);
  });

  it('a root under which no file is an image is a finding (a warning), the other roots are not', () => {
    const { root: ovirtRoot } = layouts.ovirt!;
    const { root: novaRoot } = layouts.openstack!;
    // By extension only, as the include patterns of older versions: nothing under either layout.
    const byName = ['--include', '**/*.qcow2', '--include', '**/*.img', '--include', '**/*.raw'];
    const result = scan('empty-roots', ovirtRoot, [...byName, novaRoot, layouts.libvirt!.root]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.findings).toEqual([
      { code: 'E_ROOT_NO_IMAGES', path: novaRoot },
      { code: 'E_ROOT_NO_IMAGES', path: ovirtRoot },
    ]);
    expect(result.stderr).toBe(''); // a warning: under cron, only errors are printed
    const message = result.db((db) => db.prepare("SELECT message FROM run_findings_all WHERE path = ?").pluck().get(novaRoot));
    expect(message).toMatch(/^.*: no disk image under this root \(\d+ files looked at\); .*--preset/);
    const check = runCli(['check', '--db', path.join(dir, 'empty-roots.db'), '--fail-on', 'warning', '--format', 'json'], dir);
    expect(check.status).toBe(1);
    expect((JSON.parse(check.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code))
      .toEqual(['E_ROOT_NO_IMAGES', 'E_ROOT_NO_IMAGES']);
  });
});
