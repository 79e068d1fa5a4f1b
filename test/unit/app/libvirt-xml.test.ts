/** The libvirt domain XML extractor on documents as libvirt writes them, and on hostile ones. */
import { describe, expect, it } from 'vitest';
import { decodeEntities, libvirtDiskSources } from '../../../src/app/libvirt-xml.js';

// As `virsh dumpxml` prints a running domain (trimmed), with a few traps.
const DOMAIN = `<?xml version="1.0" encoding="UTF-8"?>
<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit web&amp;db
or other application using the libvirt API.
-->

<domain type='kvm' id='7'>
  <name>web&amp;db</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>web</nova:name>
    </nova:instance>
  </metadata>
  <description>disks: <![CDATA[<disk><source file='/cdata/not-a-disk.qcow2'/></disk>]]></description>
  <memory unit='KiB'>2097152</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web&amp;db.qcow2' index='3'>
        <seclabel model='dac' relabel='no'/>
      </source>
      <backingStore type='file' index='2'>
        <format type='qcow2'/>
        <source file="/var/lib/libvirt/images/snap&#x2D;1.qcow2"/>
        <backingStore type='file' index='1'>
          <format type='raw'/>
          <source file='/var/lib/libvirt/images/../base/debian&#46;raw'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg0/data' index='4'/>
      <backingStore/>
      <target dev='vdb' bus='virtio'/>
      <mirror type='file' file='/var/lib/libvirt/images/data-copy.raw' format='raw' job='copy'>
        <format type='raw'/>
        <source file='/var/lib/libvirt/images/data-copy.raw'/>
      </mirror>
    </disk>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='rbd' name='vms/web-disk2'>
        <host name='mon1' port='6789'/>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='scratch.qcow2'/>
      <target dev='vdd' bus='virtio'/>
    </disk>
    <!-- <disk type='file' device='disk'><source file='/commented/out.qcow2'/></disk> -->
    <disk type="file" device="cdrom">
      <driver name="qemu" type="raw"/>
      <source file = "/srv/iso/debian &quot;12&quot; &lt;netinst&gt;.iso" startupPolicy='optional'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/odd>name.qcow2'/>
      <target dev='vde' bus='virtio'/>
    </disk>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/share'/>
      <target dir='share'/>
    </filesystem>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/web-serial.log'/>
    </serial>
    <interface type='bridge'>
      <source bridge='br0'/>
    </interface>
  </devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'>
    <label>system_u:system_r:svirt_t:s0:c392,c662</label>
  </seclabel>
</domain>
`;

describe('libvirtDiskSources', () => {
  it('names every disk source: file and block disks, backing chains, mirrors, cdroms; decodes entities', () => {
    expect(libvirtDiskSources(DOMAIN)).toEqual({
      paths: [
        '/var/lib/libvirt/images/web&db.qcow2',
        '/var/lib/libvirt/images/snap-1.qcow2',
        '/var/lib/libvirt/images/../base/debian.raw',
        '/dev/vg0/data',
        '/var/lib/libvirt/images/data-copy.raw',
        '/var/lib/libvirt/images/data-copy.raw',
        '/srv/iso/debian "12" <netinst>.iso',
        '/var/lib/libvirt/images/odd>name.qcow2',
      ],
      problem: null,
    });
  });

  it('ignores sources outside disks (filesystems, serial ports, interfaces) and commented or CDATA disks', () => {
    const paths = libvirtDiskSources(DOMAIN).paths;
    for (const absent of ['/srv/share', '/var/log/libvirt/qemu/web-serial.log', '/commented/out.qcow2', '/cdata/not-a-disk.qcow2']) {
      expect(paths).not.toContain(absent);
    }
  });

  it('reads a DOCTYPE with an internal subset, unquoted and valueless attributes, stray end tags', () => {
    const xml = `<!DOCTYPE domain [ <!ENTITY x "a>b"> ]><domain></devices><devices>
      <disk type=file><source file=/images/a.qcow2 /></disk><disk readonly><source dev='/dev/sdb'></source></disk>
    </devices></domain>`;
    expect(libvirtDiskSources(xml)).toEqual({ paths: ['/images/a.qcow2', '/dev/sdb'], problem: null });
  });

  it('keeps what precedes a truncated document and says where it stopped', () => {
    const cut = DOMAIN.slice(0, DOMAIN.indexOf("<source dev='/dev/vg0/data'") + 20);
    const result = libvirtDiskSources(cut);
    expect(result.paths).toEqual([
      '/var/lib/libvirt/images/web&db.qcow2', '/var/lib/libvirt/images/snap-1.qcow2', '/var/lib/libvirt/images/../base/debian.raw',
    ]);
    expect(result.problem).toMatch(/^unterminated tag at offset \d+$/);
    expect(libvirtDiskSources('<domain><!-- never closed').problem).toMatch(/unterminated markup declaration/);
  });

  it('survives garbage without throwing', () => {
    for (const text of ['', '<', '<<<>>>', '</disk></disk><source file="/x"/>', 'no markup at all', '<disk><source file="/x']) {
      expect(() => libvirtDiskSources(text)).not.toThrow();
    }
    expect(libvirtDiskSources('</disk></disk><source file="/x"/>').paths).toEqual([]);
  });
});

describe('decodeEntities', () => {
  it('decodes the XML entities and character references, and leaves unknown ones', () => {
    expect(decodeEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x4a;')).toBe('<>&"\'ABJ');
    expect(decodeEntities('&#X43;')).toBe('&#X43;'); // XML has no uppercase X form
    expect(decodeEntities('&nbsp; &#0; &#x110000; & &amp')).toBe('&nbsp; &#0; &#x110000; & &amp');
    expect(decodeEntities('&amp;lt;')).toBe('&lt;');
  });
});
