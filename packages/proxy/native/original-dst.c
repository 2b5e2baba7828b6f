/*
 * skein-proxy's one native piece: reads SO_ORIGINAL_DST (the destination a connection had
 * before an iptables REDIRECT) from a socket's file descriptor, and sets IP_TRANSPARENT on a
 * listening socket (Envoy's `transparent` listeners, for iptables TPROXY). Node-API, no other
 * dependencies.
 * getOriginalDst(fd) -> { address: string, port: number } | undefined
 * setTransparent(fd) -> undefined on success, else the error text (e.g. without CAP_NET_ADMIN)
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value undef;
  napi_get_undefined(env, &undef);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return undef;
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) return undef;

  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  char text[INET6_ADDRSTRLEN];
  int port;
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0 && ss.ss_family == AF_INET) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
    port = ntohs(in4->sin_port);
  } else {
    len = sizeof(ss);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) != 0 || ss.ss_family != AF_INET6) return undef;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  }
  napi_value result, address, port_value;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &port_value);
  napi_set_named_property(env, result, "address", address);
  napi_set_named_property(env, result, "port", port_value);
  return result;
}

static napi_value set_transparent(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value undef, err;
  napi_get_undefined(env, &undef);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return undef;
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) return undef;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    napi_create_string_utf8(env, strerror(errno), NAPI_AUTO_LENGTH, &err);
    return err;
  }
  int one = 1;
  int rc = ss.ss_family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))
                                    : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
  /* A dual-stack IPv6 socket also takes IPv4 connections: set both where the kernel allows it. */
  if (rc == 0 && ss.ss_family == AF_INET6) setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
  if (rc != 0) {
    napi_create_string_utf8(env, strerror(errno), NAPI_AUTO_LENGTH, &err);
    return err;
  }
  return undef;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, fn2;
  napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, get_original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "getOriginalDst", fn);
  napi_create_function(env, "setTransparent", NAPI_AUTO_LENGTH, set_transparent, NULL, &fn2);
  napi_set_named_property(env, exports, "setTransparent", fn2);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
