/*
 * imgaudit's own tiny N-API addon: lseek(2) with SEEK_DATA / SEEK_HOLE, which
 * Node's fs module does not expose. The raw reader needs them to tell data
 * extents from holes exactly as a file system reports them.
 *
 * seek(fd, offset, whence) returns the resulting offset (>= 0) or the negated
 * errno (< 0), so that callers can tell ENXIO ("no data after offset") from
 * "not supported" without exceptions on a hot path.
 *
 * fileExtents(fd) reads the file's extent map (FS_IOC_FIEMAP): which host
 * bytes are allocated, and which of those are allocated but unwritten.
 *
 * lockProbe / lockSet are fcntl(2) byte-range locks, POSIX (F_GETLK/F_SETLK)
 * or open-file-description (F_OFD_GETLK/F_OFD_SETLK): probing QEMU's image
 * lock bytes without taking them, and the scan's own kernel lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <node_api.h>

#ifndef SEEK_DATA
#define SEEK_DATA 3
#endif
#ifndef SEEK_HOLE
#define SEEK_HOLE 4
#endif

static napi_value seek_fn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "seek(fd, offset, whence) takes three numbers");
    return NULL;
  }
  int32_t fd = -1, whence = 0;
  int64_t offset = 0;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int32(env, argv[2], &whence) != napi_ok) {
    napi_throw_type_error(env, NULL, "seek(fd, offset, whence) takes three numbers");
    return NULL;
  }
  if (whence != SEEK_DATA && whence != SEEK_HOLE) {
    napi_throw_range_error(env, NULL, "whence must be SEEK_DATA (3) or SEEK_HOLE (4)");
    return NULL;
  }
  off_t r = lseek(fd, (off_t)offset, whence);
  int64_t result = r < 0 ? -(int64_t)errno : (int64_t)r;
  napi_value out;
  napi_create_int64(env, result, &out);
  return out;
}

/*
 * willNeed(fd, offset, length): posix_fadvise(POSIX_FADV_WILLNEED), so that
 * the kernel reads metadata tables ahead while the reader parses. Returns 0
 * or the error number; advice never changes what is read.
 */
static napi_value will_need_fn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  int64_t offset = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "willNeed(fd, offset, length) takes three numbers");
    return NULL;
  }
  int rc = posix_fadvise(fd, (off_t)offset, (off_t)length, POSIX_FADV_WILLNEED);
  napi_value out;
  napi_create_int32(env, rc, &out);
  return out;
}

/* Extents asked for per FS_IOC_FIEMAP call. */
#define FIEMAP_BATCH 256
/* A file with more (merged) extents than this is refused (bounded memory). */
#define FIEMAP_MAX_EXTENTS (1 << 22)

/*
 * fileExtents(fd): the file's extent map as a flat Float64Array of triples
 * [offset, length, unwritten, ...] in file order, where unwritten is 1 for
 * extents flagged FIEMAP_EXTENT_UNWRITTEN (allocated by fallocate(2) but
 * never written: they read as zeroes) and 0 otherwise. Touching extents of
 * the same kind are merged, so a contiguous file is one triple; gaps are
 * holes. FIEMAP_FLAG_SYNC flushes delayed allocation first so the answer is
 * settled. Asks in batches until an extent carries FIEMAP_EXTENT_LAST (or
 * none come). Returns the negated errno as a number when the ioctl fails
 * (EOPNOTSUPP, ENOTTY: the file system cannot tell).
 */
static napi_value file_extents_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "fileExtents(fd) takes one number");
    return NULL;
  }
  size_t request_bytes = sizeof(struct fiemap) + FIEMAP_BATCH * sizeof(struct fiemap_extent);
  struct fiemap *request = malloc(request_bytes);
  size_t capacity = 64, count = 0;
  double *triples = malloc(capacity * 3 * sizeof(double));
  int64_t failure = 0;
  uint64_t next = 0;
  int done = 0;
  if (request == NULL || triples == NULL) failure = -ENOMEM;
  while (failure == 0 && !done) {
    memset(request, 0, request_bytes);
    request->fm_start = next;
    request->fm_length = FIEMAP_MAX_OFFSET - next;
    request->fm_flags = FIEMAP_FLAG_SYNC;
    request->fm_extent_count = FIEMAP_BATCH;
    if (ioctl(fd, FS_IOC_FIEMAP, request) < 0) {
      failure = -(int64_t)errno;
      break;
    }
    if (request->fm_mapped_extents == 0) break;
    uint64_t before = next;
    for (uint32_t i = 0; i < request->fm_mapped_extents; i++) {
      const struct fiemap_extent *extent = &request->fm_extents[i];
      if (extent->fe_flags & FIEMAP_EXTENT_LAST) done = 1;
      next = extent->fe_logical + extent->fe_length;
      double unwritten = (extent->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? 1 : 0;
      if (count > 0) {
        double *last = &triples[(count - 1) * 3];
        if (last[2] == unwritten && last[0] + last[1] == (double)extent->fe_logical) {
          last[1] += (double)extent->fe_length;
          continue;
        }
      }
      if (count == capacity) {
        if (capacity >= FIEMAP_MAX_EXTENTS) { failure = -E2BIG; break; }
        double *grown = realloc(triples, capacity * 6 * sizeof(double));
        if (grown == NULL) { failure = -ENOMEM; break; }
        triples = grown;
        capacity *= 2;
      }
      triples[count * 3] = (double)extent->fe_logical;
      triples[count * 3 + 1] = (double)extent->fe_length;
      triples[count * 3 + 2] = unwritten;
      count++;
    }
    if (next <= before) break; /* no progress: never loop forever */
  }
  free(request);
  napi_value out;
  if (failure != 0) {
    free(triples);
    napi_create_int64(env, failure, &out);
    return out;
  }
  napi_value buffer;
  void *data = NULL;
  if (napi_create_arraybuffer(env, count * 3 * sizeof(double), &data, &buffer) != napi_ok) {
    free(triples);
    napi_throw_error(env, NULL, "fileExtents: out of memory");
    return NULL;
  }
  if (count > 0) memcpy(data, triples, count * 3 * sizeof(double));
  free(triples);
  napi_create_typedarray(env, napi_float64_array, count * 3, buffer, 0, &out);
  return out;
}

/* Lock types as the JS side names them: 0 none/unlock, 1 read (shared), 2 write (exclusive). */
static short lock_type_to_c(int32_t type) {
  return type == 1 ? F_RDLCK : type == 2 ? F_WRLCK : F_UNLCK;
}

static int read_lock_args(napi_env env, napi_callback_info info, const char *usage,
                          int32_t *fd, bool *ofd, int32_t *type, int64_t *start, int64_t *length) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok ||
      napi_get_value_bool(env, argv[1], ofd) != napi_ok ||
      napi_get_value_int32(env, argv[2], type) != napi_ok ||
      napi_get_value_int64(env, argv[3], start) != napi_ok ||
      napi_get_value_int64(env, argv[4], length) != napi_ok ||
      *type < 0 || *type > 2 || *start < 0 || *length < 0) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

/*
 * lockProbe(fd, ofd, type, start, length): would a lock of `type` (1 read,
 * 2 write) on [start, start + length) conflict with one another process or
 * open file description holds? Takes no lock. Returns [0, 0] when nothing
 * conflicts, [holderType, holderPid] otherwise (holderPid is -1 for OFD
 * locks, which belong to no process), or the negated errno as a number.
 */
static napi_value lock_probe_fn(napi_env env, napi_callback_info info) {
  int32_t fd, type;
  bool ofd;
  int64_t start, length;
  if (!read_lock_args(env, info, "lockProbe(fd, ofd, type, start, length)", &fd, &ofd, &type, &start, &length)) return NULL;
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = lock_type_to_c(type == 0 ? 2 : type);
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)start;
  fl.l_len = (off_t)length;
  napi_value out;
  if (fcntl(fd, ofd ? F_OFD_GETLK : F_GETLK, &fl) < 0) {
    napi_create_int64(env, -(int64_t)errno, &out);
    return out;
  }
  int32_t holder = fl.l_type == F_RDLCK ? 1 : fl.l_type == F_WRLCK ? 2 : 0;
  napi_value pair[2];
  napi_create_int32(env, holder, &pair[0]);
  napi_create_int32(env, holder == 0 ? 0 : (int32_t)fl.l_pid, &pair[1]);
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, pair[0]);
  napi_set_element(env, out, 1, pair[1]);
  return out;
}

/*
 * lockSet(fd, ofd, type, start, length): takes (type 1 or 2) or releases
 * (type 0) a lock without waiting. Returns 0, or the negated errno (EAGAIN or
 * EACCES when another holder conflicts).
 */
static napi_value lock_set_fn(napi_env env, napi_callback_info info) {
  int32_t fd, type;
  bool ofd;
  int64_t start, length;
  if (!read_lock_args(env, info, "lockSet(fd, ofd, type, start, length)", &fd, &ofd, &type, &start, &length)) return NULL;
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = lock_type_to_c(type);
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)start;
  fl.l_len = (off_t)length;
  int rc = fcntl(fd, ofd ? F_OFD_SETLK : F_SETLK, &fl);
  napi_value out;
  napi_create_int64(env, rc < 0 ? -(int64_t)errno : 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "seek", NAPI_AUTO_LENGTH, seek_fn, NULL, &fn);
  napi_set_named_property(env, exports, "seek", fn);
  napi_create_function(env, "willNeed", NAPI_AUTO_LENGTH, will_need_fn, NULL, &fn);
  napi_set_named_property(env, exports, "willNeed", fn);
  napi_create_function(env, "fileExtents", NAPI_AUTO_LENGTH, file_extents_fn, NULL, &fn);
  napi_set_named_property(env, exports, "fileExtents", fn);
  napi_create_function(env, "lockProbe", NAPI_AUTO_LENGTH, lock_probe_fn, NULL, &fn);
  napi_set_named_property(env, exports, "lockProbe", fn);
  napi_create_function(env, "lockSet", NAPI_AUTO_LENGTH, lock_set_fn, NULL, &fn);
  napi_set_named_property(env, exports, "lockSet", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
