/*
 * skein-proxy's upstream sockets from a non-local source address (Envoy's original_src listener
 * filter, Istio's TPROXY inbound): a TCP socket with IP_TRANSPARENT (IPV6_TRANSPARENT), SO_MARK
 * and bound to the downstream client's address, port 0. Node connects it (net.Socket({ fd })
 * then connect): Node's own connect binds inside the call, with no hook to set the option first.
 * Node-API, no other dependencies; built by scripts/build-native.mjs.
 * transparentSocket(address: string, mark: number) -> fd (number) | error text (string)
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

static napi_value failure(napi_env env, const char *step, int fd) {
  char text[160];
  snprintf(text, sizeof(text), "%s: %s", step, strerror(errno));
  if (fd >= 0) close(fd);
  napi_value s;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value transparent_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    errno = EINVAL;
    return failure(env, "arguments", -1);
  }
  char address[INET6_ADDRSTRLEN + 1];
  size_t len = 0;
  uint32_t mark = 0;
  if (napi_get_value_string_utf8(env, argv[0], address, sizeof(address), &len) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &mark) != napi_ok) {
    errno = EINVAL;
    return failure(env, "arguments", -1);
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  socklen_t size;
  int v6 = 0;
  if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    size = sizeof(*in4);
  } else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    size = sizeof(*in6);
    v6 = 1;
  } else {
    errno = EINVAL;
    return failure(env, "address", -1);
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(env, "socket", -1);
  int one = 1;
  int rc = v6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))
              : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
  if (rc != 0) return failure(env, "IP_TRANSPARENT", fd);
  if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
    return failure(env, "SO_MARK", fd);
  if (bind(fd, (struct sockaddr *)&ss, size) != 0) return failure(env, "bind", fd);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "transparentSocket", NAPI_AUTO_LENGTH, transparent_socket, NULL, &fn) !=
      napi_ok)
    return NULL;
  if (napi_set_named_property(env, exports, "transparentSocket", fn) != napi_ok) return NULL;
  return exports;
}
