// Images named by options (#13): --image-opts strings and json: names for
// each driver imgaudit implements (format drivers, file, raw offset/size,
// backing null / reference / options, data-file, file.locking), QEMU's
// option-string rules (",," escapes, implied `file`, short-form booleans)
// and its JSON dialect with its error texts. NBD exports and locks need live
// processes: they are in test/live/nbd.live.test.ts and test/live/locks.live.test.ts.
import { qio, qioRaw } from "./helpers.mjs";

const J = "--output=json";
const IO = "--image-opts";
const json = (o) => `json:${JSON.stringify(o)}`;
const file = (filename) => ({ driver: "file", filename });

const setup = `
qemu-img create -q -f qcow2 a.qcow2 4M
${qio("a.qcow2", "write -P 1 0 64k", "write -P 3 2M 64k")}
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2
${qio("b.qcow2", "write -P 2 1M 64k")}
qemu-img create -q -f raw r.raw 2M
${qioRaw("r.raw", "write -P 3 512k 64k", "write -P 4 1536k 4k")}
qemu-img create -q -f qcow2 -o data_file=d.raw dd.qcow2 1M
${qio("dd.qcow2", "write -P 5 0 64k")}
cp d.raw d2.raw
${qioRaw("d2.raw", "write -P 6 128k 64k")}
cp r.raw 'we,ird.raw'
qemu-img create -q -f vmdk -o subformat=monolithicFlat fl.vmdk 1M
qemu-img create -q -f vpc v.vpc 1M
${qio("v.vpc", "write -P 7 0 4k").replace("-f qcow2", "-f vpc")}`;

export const imageOptsCases = [
  {
    name: "image-opts-drivers",
    description: "--image-opts for format drivers, file, raw offset/size windows, backing and data-file options",
    setup,
    runs: [
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2"],
      ["map", IO, "driver=qcow2,file.filename=b.qcow2"],
      ["map", IO, "file.filename=b.qcow2"],
      ["map", J, IO, "driver=qcow2,file.driver=file,file.filename=b.qcow2,file.locking=off"],
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2,file.locking=auto,file.aio=threads,cache.direct=off"],
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2,node-name=top,read-only=on,force-share=on"],
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2,backing.driver=qcow2,backing.file.filename=a.qcow2"],
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2,backing.driver=raw,backing.file.filename=r.raw"],
      ["map", J, IO, "driver=qcow2,file.filename=b.qcow2,backing.driver=raw,backing.file.filename=r.raw,backing.offset=4096"],
      ["map", IO, "driver=qcow2,file.filename=b.qcow2,backing="],
      ["map", J, IO, "driver=raw,file.filename=r.raw"],
      ["map", J, IO, "driver=raw,file.filename=r.raw,offset=512k,size=1M"],
      ["map", IO, "driver=raw,file.filename=r.raw,offset=512k"],
      ["map", J, IO, "driver=raw,file.filename=r.raw,offset=1024,size=2048"],
      ["map", J, IO, "driver=raw,file.filename=r.raw,offset=0x1000"],
      ["map", J, IO, "driver=raw,file.filename=r.raw,size=1536k"],
      ["map", J, "-s", "64k", "-l", "1M", IO, "driver=raw,file.filename=r.raw,offset=256k,size=1M"],
      ["map", J, IO, "file.filename=r.raw,offset=4096"],
      ["map", J, IO, "driver=file,filename=r.raw"],
      ["map", IO, "driver=file,filename=b.qcow2"],
      ["map", J, IO, "driver=qcow2,file.filename=dd.qcow2,data-file.filename=d2.raw"],
      ["map", IO, "driver=qcow2,file.filename=dd.qcow2,data-file.driver=file,data-file.filename=d2.raw"],
      ["map", J, IO, "driver=vmdk,file.filename=fl.vmdk"],
      ["map", J, IO, "driver=vpc,file.filename=v.vpc"],
      ["map", J, IO, "driver=file,filename=we,,ird.raw"],
      ["map", IO, "driver=file,filename=r.raw,"],
      ["map", IO, "driver=file,filename=r.raw,filename=b.qcow2"],
      ["map", IO, "driver=file,filename=r.raw,nolocking"],
      ["map", IO, "driver=file,filename=we,ird.raw"],
      ...[
        "b.qcow2", "help", "", "driver=qcow2", "driver=qcow2,file=b.qcow2", "driver=qcow2,file.driver=file",
        "file.filename=nope.qcow2", "driver=qcow2,file.filename=b.qcow2,backing=null",
        "driver=qcow2,file.filename=b.qcow2,backing=top,node-name=top",
        "driver=qcow2,file.filename=b.qcow2,backing.file.filename=missing.qcow2",
        "driver=raw,file.filename=r.raw,backing.file.filename=a.qcow2",
        "driver=raw,file.filename=r.raw,offset=3M", "driver=raw,file.filename=r.raw,size=1000",
        "driver=raw,file.filename=r.raw,offset=3M,size=1000", "driver=raw,file.filename=r.raw,size=3M",
        "driver=raw,file.filename=r.raw,offset=1M,size=1536k", "driver=raw,file.filename=r.raw,offset=abc",
        "driver=raw,file.filename=r.raw,offset=-5", "driver=raw,file.filename=r.raw,offset=99999999999999999999",
        "driver=raw,file.filename=r.raw,offset=16E", "driver=foo,file.filename=r.raw",
        "driver=qcow2,file.filename=b.qcow2,foo=bar", "driver=qcow2,file.filename=b.qcow2,locking=off",
        "driver=qcow2,file.filename=b.qcow2,file.locking=maybe", "driver=qcow2,file.filename=b.qcow2,file.foo=1",
        "driver=qcow2,file.filename=dd.qcow2,data-file=d2.raw", "driver=qcow2,file.filename=b.qcow2,data-file.filename=d2.raw",
        "driver=qcow2,file.filename=dd.qcow2,data-file.filename=nope.raw", "driver=raw,file.filename=r.raw,data-file.filename=d2.raw",
        "driver=file,filename=we,,ird.raw,,", "driver=file,filename", "driver=file,=x", "driver=file,,filename=r.raw",
        "driver=file,filename=r.raw,help", "driver=file", "driver=qcow2,file.filename=r.raw",
      ].map((opts) => ({ args: ["map", IO, opts], exit: 1 })),
      { args: ["map", IO, "-f", "qcow2", "driver=qcow2,file.filename=b.qcow2"], exit: 1 },
      { args: ["map", IO, "-U", "driver=qcow2,file.filename=b.qcow2,force-share=off"], exit: 1 },
    ],
  },
  {
    name: "json-names",
    description: "json: names: nesting and dotted keys, typed values, backing null/options, raw windows, QEMU's JSON dialect and errors",
    setup,
    runs: [
      ["map", J, json({ driver: "qcow2", file: file("b.qcow2") })],
      ["map", json({ driver: "qcow2", file: file("b.qcow2") })],
      ["map", J, json({ driver: "qcow2", "file.filename": "b.qcow2" })],
      ["map", J, json({ "file.filename": "b.qcow2" })],
      ["map", J, json({ driver: "qcow2", file: file("b.qcow2"), backing: null })],
      ["map", J, json({ driver: "qcow2", file: file("b.qcow2"), backing: { driver: "raw", file: file("r.raw") } })],
      ["map", J, json({ driver: "qcow2", file: file("b.qcow2"), backing: 1 })],
      ["map", J, json({ driver: "raw", file: file("r.raw"), offset: 4096, size: 65536 })],
      ["map", J, json({ driver: "raw", file: file("r.raw"), offset: "4096" })],
      ["map", J, json({ driver: "raw", file: file("r.raw"), offset: 1024 })],
      ["map", J, json({ driver: "file", filename: "r.raw" })],
      ["map", J, json({ driver: "file", filename: "r.raw", locking: false })],
      ["map", J, json({ driver: "qcow2", file: file("dd.qcow2"), "data-file": file("d2.raw") })],
      ["map", J, "-f", "raw", json({ driver: "qcow2", file: file("b.qcow2") })],
      ["map", J, "json:{'driver':'file','filename':'r.raw'}"],
      ["map", J, 'json:{"driver":"file","filename":"r\\u002eraw"}'],
      ["map", J, ' json:{"driver":"file","filename":"r.raw"}'.trim()],
      ...[
        json({ driver: "qcow2", filename: "b.qcow2" }), json({ driver: "qcow2", file: "b.qcow2" }),
        json({ driver: "qcow2", file: file("b.qcow2"), backing: "a.qcow2" }),
        json({ driver: "qcow2", file: file("b.qcow2"), backing: { file: file("r.raw") } }),
        json({ driver: "raw", file: file("r.raw"), offset: -1 }), json({ driver: "raw", file: file("r.raw"), offset: 1.5 }),
        json({ driver: "raw", file: file("r.raw"), size: 1e3 }), json({ driver: "raw", file: file("r.raw"), size: true }),
        json({ filename: "r.raw" }), json({}), json({ driver: 1 }), json({ driver: "file", filename: 5 }),
        json({ driver: "file", filename: "r.raw", x: { y: [1, 2] } }),
        'json:', 'json:{', 'json:{"driver":}', 'json:{"driver":"file","filename":"r.raw",}',
        'json:{"driver":"file" "filename":"r.raw"}', 'json:{"driver":"file","filename":"r.raw"} x', 'json:{"driver":tru}',
        'json:{"driver":"file","filename":"r.raw\\x"}', 'json:"x"', 'json:[1]', 'json:{"a" 1}', 'json:{1:2}', 'json:[1 2]',
        'json:{"a":[1,}', 'json:{"a":@}', 'json:{"a":"x', 'json:{"a":01}', 'json:{"a":1.}', 'json:{"a":-}',
        'json:{"a":"\\u00"}', 'json:{"a":1}}', 'json:}', 'json:{"a":nul}', 'json:{"a":1e}', 'json:{"a":"\\ud800"}', 'json:1 2',
      ].map((name) => ({ args: ["map", J, name], exit: 1 })),
    ],
  },
];
