/*
 * imgaudit's own tiny N-API addon: lseek(2) with SEEK_DATA / SEEK_HOLE, which
 * Node's fs module does not expose. The raw reader needs them to tell data
 * extents from holes exactly as a file system reports them.
 *
 * seek(fd, offset, whence) returns the resulting offset (>= 0) or the negated
 * errno (< 0), so that callers can tell ENXIO ("no data after offset") from
 * "not supported" without exceptions on a hot path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>
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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "seek", NAPI_AUTO_LENGTH, seek_fn, NULL, &fn);
  napi_set_named_property(env, exports, "seek", fn);
  napi_create_function(env, "willNeed", NAPI_AUTO_LENGTH, will_need_fn, NULL, &fn);
  napi_set_named_property(env, exports, "willNeed", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
