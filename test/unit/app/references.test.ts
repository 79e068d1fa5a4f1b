/** Reference sources: libvirt domain directories and path lists, with unreadable sources as findings. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectReferences, pathListEntries } from '../../../src/app/references.js';
import type { FindingRecord } from '../../../src/store/records.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-references-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function collect(libvirtDomainDirs: string[], pathLists: string[]) {
  const findings: { path: string; finding: FindingRecord }[] = [];
  const references = [...collectReferences({ libvirtDomainDirs, pathLists }, (p, finding) => findings.push({ path: p, finding }))];
  return { references, findings };
}

describe('pathListEntries', () => {
  it('reads one absolute path per line, normalised, with # comments and blank lines', () => {
    const text = '# images in use\n\n/images/a.qcow2\n  /images//b.qcow2  # vm b\n/images/x/../c#1.qcow2\r\nrelative.qcow2\n\t\n';
    expect(pathListEntries(text)).toEqual({
      paths: ['/images/a.qcow2', '/images/b.qcow2', '/images/c#1.qcow2'],
      badLines: [6],
    });
  });
});

describe('collectReferences', () => {
  it('reads the *.xml files of each domain directory and each path list; problems are warnings', () => {
    const domains = path.join(dir, 'qemu');
    fs.mkdirSync(path.join(domains, 'autostart'), { recursive: true });
    fs.writeFileSync(path.join(domains, 'b.xml'), "<domain><devices><disk type='file'><source file='/images/b.qcow2'/></disk></devices></domain>");
    fs.writeFileSync(path.join(domains, 'a.xml'),
      "<domain><devices><disk type='file'><source file='/images/sub/../a.qcow2'/></disk><disk type='file'><source file='rel.qcow2'/></disk></devices></domain>");
    fs.writeFileSync(path.join(domains, 'notes.txt'), "<disk><source file='/images/not-xml.qcow2'/></disk>");
    fs.writeFileSync(path.join(domains, 'autostart', 'a.xml'), "<disk><source file='/images/nested.qcow2'/></disk>");
    fs.mkdirSync(path.join(domains, 'dir.xml')); // a directory named like a domain: not a file
    fs.writeFileSync(path.join(domains, 'cut.xml'), "<domain><devices><disk type='file'><source file='/images/cut.qcow2'/></disk><disk><source file='/x");
    const list = path.join(dir, 'in-use.txt');
    fs.writeFileSync(list, '/images/a.qcow2\nnope\n');
    const missingDir = path.join(dir, 'no-such-dir');
    const missingList = path.join(dir, 'no-such-list.txt');

    const { references, findings } = collect([domains, missingDir], [list, missingList, path.join(dir, 'qemu')]);
    expect(references).toEqual([
      { path: '/images/a.qcow2', source: path.join(domains, 'a.xml') },
      { path: '/images/b.qcow2', source: path.join(domains, 'b.xml') },
      { path: '/images/cut.qcow2', source: path.join(domains, 'cut.xml') },
      { path: '/images/a.qcow2', source: list },
    ]);
    expect(findings.map(({ path: p, finding }) => [p, finding.code, finding.severity])).toEqual([
      [path.join(domains, 'a.xml'), 'E_REFERENCE_INVALID', 'warning'],
      [path.join(domains, 'cut.xml'), 'E_REFERENCE_INVALID', 'warning'],
      [missingDir, 'E_REFERENCE_UNREADABLE', 'warning'],
      [list, 'E_REFERENCE_INVALID', 'warning'],
      [missingList, 'E_REFERENCE_UNREADABLE', 'warning'],
      [path.join(dir, 'qemu'), 'E_REFERENCE_UNREADABLE', 'warning'],
    ]);
    expect(findings[0]!.finding.message).toContain("'rel.qcow2'");
    expect(findings[2]!.finding.message).toContain('ENOENT');
    expect(findings[3]!.finding.message).toContain('line 2');
  });
});
