{
  "targets": [
    {
      "target_name": "switchyard_native",
      "sources": [
        "src/addon.c",
        "src/util.c",
        "src/peercred.c",
        "src/cgroup.c",
        "src/bpfpin.c",
        "src/tagger.c",
        "src/classifier.c",
        "src/procevents.c",
        "src/sockets.c",
        "src/tun.c",
        "src/mounts.c",
        "src/wifi.c",
        "src/writes.c",
        "src/journal.c",
        "src/memory.c"
      ],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lpthread"]
    }
  ]
}
