/**
 * Presets: where each virtualisation platform keeps its disk images, as a
 * layer of configuration between the defaults and the config file (so any
 * key a file or a flag sets still wins). A preset names the platform's
 * default root, narrows the crawl to the platform's image folders, and adds
 * the raw patterns of the volumes that carry no extension: formats with a
 * magic are found by content anyway, raw files only by name or path.
 * docs/operations.md describes each layout.
 */
import type { PartialConfig } from './config.js';

export const PRESET_NAMES = ['libvirt', 'openstack', 'ovirt', 'proxmox'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The raw names every preset keeps (the defaults'). */
const RAW_NAMES = ['**/*.img', '**/*.raw'];

/** An oVirt/RHV volume file: a UUID (8-4-4-4-12), no extension. */
const UUID = '????????-????-????-????-????????????';

const PRESETS: Readonly<Record<PresetName, PartialConfig>> = {
  // Storage pools of type dir; the domains' XML names the disks in use.
  libvirt: {
    roots: ['/var/lib/libvirt/images'],
    references: { libvirtDomainDirs: ['/etc/libvirt/qemu'] },
  },
  // Nova's libvirt driver: instances/<uuid>/disk (qcow2 over _base/<hash>, or raw when
  // images_type = raw), disk.local, disk.swap, disk.eph<N>, disk.config (config drive),
  // disk.rescue; _base/<hash> cached images are raw unless force_raw_images is off.
  // disk.info is Nova's JSON index of the formats, locks/ its lock files.
  openstack: {
    roots: ['/var/lib/nova/instances'],
    exclude: ['locks/**', '*/disk.info', '*/console.log'],
    rawPatterns: [...RAW_NAMES, '_base/*', '*/disk', '*/disk.local', '*/disk.swap', '*/disk.eph[0-9]*',
      '*/disk.config', '*/disk.rescue'],
  },
  // Storage domains mounted under /rhev/data-center/mnt: <server:_export>/<sd-uuid>/images/
  // <group-uuid>/<volume-uuid> (glusterSD/<server:_volume>/... one level deeper), raw or qcow2
  // without extension, beside <volume-uuid>.meta and .lease; dom_md/ holds sanlock's files.
  ovirt: {
    roots: ['/rhev/data-center/mnt'],
    include: ['**/images/*/*'],
    exclude: ['**/*.meta', '**/*.lease', '**/dom_md/**'],
    rawPatterns: [...RAW_NAMES, `**/images/*/${UUID}`],
  },
  // Directory storages (local: /var/lib/vz; NFS, CIFS and other dir storages: /mnt/pve/<id>):
  // images/<vmid>/{vm,base}-<vmid>-disk-<n>.{raw,qcow2,vmdk} and vm-<vmid>-cloudinit.qcow2;
  // dump/, template/ and snippets/ hold backups, ISOs and container templates, not disks.
  proxmox: {
    roots: ['/var/lib/vz'],
    include: ['**/images/*/*'],
  },
};

/** The configuration layer of a preset. */
export function presetLayer(name: PresetName): PartialConfig {
  return structuredClone(PRESETS[name]);
}
