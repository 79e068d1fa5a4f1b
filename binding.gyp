{
  "targets": [
    {
      "target_name": "imgaudit_native",
      "sources": ["src/native/seek.c"],
      "cflags": ["-O2", "-Wall", "-D_GNU_SOURCE", "-D_FILE_OFFSET_BITS=64"]
    }
  ]
}
