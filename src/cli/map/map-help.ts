/** `imgaudit map --help`. */
export const MAP_HELP = `Usage: imgaudit map [-f FMT] [--output=human|json] [-s OFFSET] [-l LENGTH] [-U]
                    [--object OBJDEF] [--image-opts] [--compat=8.2] FILENAME

Print the allocation map of an image and its backing chain, byte-identical to
\`qemu-img map\` of QEMU 7.2, read natively (QEMU need not be installed).
FILENAME is a file, a json: name, an NBD URI (nbd://HOST:PORT/EXPORT,
nbd+unix:///EXPORT?socket=PATH, nbd:unix:PATH[:exportname=E], nbd:HOST:PORT),
or with --image-opts an option string (driver=qcow2,file.filename=a.qcow2).

Options:
  -f, --format=FMT          image format (qcow2, raw); probed like QEMU when omitted
      --output=human|json   output format (default: human)
  -s, --start-offset=N      first guest byte (qemu size syntax: 1M, 0x1000, 1.5G)
  -l, --max-length=N        map at most N bytes
  -U, --force-share         map an image another process holds for writing
                            (imgaudit never takes a lock; without -U it refuses
                            such an image as qemu-img does)
      --image-opts          FILENAME is a QEMU option string
      --object OBJDEF       a QEMU object (tls-creds-x509,id=ID,dir=DIR for NBD TLS)
      --compat=8.2          add the "compressed" key that QEMU 8.2 and later print
  -h, --help                show this help

Examples:
  imgaudit map --output=json vm.qcow2
  imgaudit map -f raw disk.img
  imgaudit map --output=json -s 1G -l 64M overlay.qcow2
  imgaudit map --image-opts driver=raw,file.filename=disk.img,offset=1M,size=512M
  imgaudit map --output=json 'nbd+unix:///vda?socket=/run/nbd.sock'

Exit status: 0 on success, 1 on any error (message on stderr).
`;
