// skein-proxy's malloc_trim: hands the C heap's free pages back to the OS. Starting up frees a
// lot of native memory (V8's compiler zones, parser buffers) that glibc keeps in its arenas; the
// proxy calls this once after its first configuration is in (src/util/release-memory.ts), as
// Envoy's tcmalloc releases free memory to the OS. A Node-API addon, built by
// scripts/build-native.mjs.
#include <malloc.h>
#include <node_api.h>

static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) != 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
