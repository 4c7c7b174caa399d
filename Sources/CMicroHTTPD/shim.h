// libmicrohttpd for Swift (Debian: libmicrohttpd-dev). Only BatonHTTP imports this module.
#ifndef BATON_CMICROHTTPD_SHIM_H
#define BATON_CMICROHTTPD_SHIM_H

#include <sys/socket.h>
#include <stdint.h>
#include <microhttpd.h>

// The callback MHD_OPTION_URI_LOG_CALLBACK takes: the raw (still percent-encoded) URI of
// a request, once its request line is read; what it returns is the request's first
// `*con_cls`.
typedef void *(*cmhd_uri_callback)(void *context, const char *uri, struct MHD_Connection *connection);

// MHD_start_daemon takes its options as C varargs, which Swift cannot pass: this
// wrapper passes the fixed set baton uses. The daemon polls with epoll on a thread of
// its own and lets handlers suspend a connection while an answer is computed elsewhere.
static inline struct MHD_Daemon *cmhd_start(const struct sockaddr *address, int ipv6,
                                            unsigned int connection_limit, unsigned int per_address_limit,
                                            unsigned int timeout_seconds, size_t memory_limit,
                                            MHD_AccessHandlerCallback handler, void *handler_context,
                                            MHD_RequestCompletedCallback completed, void *completed_context,
                                            MHD_NotifyConnectionCallback notify, void *notify_context,
                                            cmhd_uri_callback uri_callback, void *uri_context) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6) flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                            MHD_OPTION_SOCK_ADDR, address,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context,
                            MHD_OPTION_NOTIFY_CONNECTION, notify, notify_context,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_callback, uri_context,
                            MHD_OPTION_END);
}

// libmicrohttpd's closed enums come into Swift with their prefixes stripped; these
// twins keep the names its manual uses.
static const enum MHD_Result CMHD_YES = MHD_YES;
static const enum MHD_Result CMHD_NO = MHD_NO;
static const enum MHD_ValueKind CMHD_HEADER_KIND = MHD_HEADER_KIND;
static const enum MHD_ValueKind CMHD_GET_ARGUMENT_KIND = MHD_GET_ARGUMENT_KIND;
static const enum MHD_ResponseMemoryMode CMHD_RESPMEM_MUST_COPY = MHD_RESPMEM_MUST_COPY;

static const enum MHD_ConnectionNotificationCode CMHD_CONNECTION_STARTED = MHD_CONNECTION_NOTIFY_STARTED;
static const enum MHD_ConnectionNotificationCode CMHD_CONNECTION_CLOSED = MHD_CONNECTION_NOTIFY_CLOSED;

// The connection's socket (MHD_get_connection_info is variadic), or -1.
static inline int cmhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? (int)info->connect_fd : -1;
}

// The port the daemon bound (useful after asking for port 0), or 0.
static inline uint16_t cmhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

#endif
