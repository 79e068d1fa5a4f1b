/** `imgaudit map --help`. */
export const MAP_HELP = `Usage: imgaudit map [-f FMT] [--output=human|json] [-s OFFSET] [-l LENGTH] [-U] [--compat=8.2] FILE

Print the allocation map of FILE and its backing chain, byte-identical to
\`qemu-img map\` of QEMU 7.2, read natively (QEMU need not be installed).

Options:
  -f, --format=FMT          image format (qcow2, raw); probed like QEMU when omitted
      --output=human|json   output format (default: human)
  -s, --start-offset=N      first guest byte (qemu size syntax: 1M, 0x1000, 1.5G)
  -l, --max-length=N        map at most N bytes
  -U, --force-share         accepted for compatibility (imgaudit never takes locks)
      --compat=8.2          add the "compressed" key that QEMU 8.2 and later print
  -h, --help                show this help

Examples:
  imgaudit map --output=json vm.qcow2
  imgaudit map -f raw disk.img
  imgaudit map --output=json -s 1G -l 64M overlay.qcow2

Exit status: 0 on success, 1 on any error (message on stderr).
`;
