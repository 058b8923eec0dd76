/* cfg.h - the configuration model and its parser.
 *
 * Text in HAProxy's syntax (the subset a front balancer uses) becomes a
 * `struct cfg`: plain data, no sockets, no libevent. The parser is pure:
 * cfg_parse_text() takes bytes and never touches the network; host names
 * are resolved in a separate step, cfg_resolve(), so the fuzzer and the
 * unit tests reach the parser alone.
 *
 * Every message the parser emits names file:line. Errors make the whole
 * configuration invalid; warnings do not. The parser keeps going after an
 * error so that `ppbridge -c` reports every problem at once, as HAProxy does.
 */
#ifndef PPB_CFG_H
#define PPB_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net.h"

struct acl;
struct acl_cond;
struct smp_expr;
struct sample_fmt;

/* Defaults applied when the configuration leaves them out (milliseconds). */
#define CFG_DEFAULT_TIMEOUT_CONNECT 5000u
#define CFG_DEFAULT_TIMEOUT_CLIENT 60000u
#define CFG_DEFAULT_TIMEOUT_SERVER 60000u
#define CFG_DEFAULT_TIMEOUT_CLIENT_HS 5000u
#define CFG_DEFAULT_INTER 2000u
/* How long to wait for a ClientHello without `tcp-request inspect-delay`. */
#define CFG_DEFAULT_INSPECT_DELAY 5000u
#define CFG_DEFAULT_RISE 2
#define CFG_DEFAULT_FALL 3
#define CFG_DEFAULT_WEIGHT 1
#define CFG_DEFAULT_RETRIES 3
#define CFG_DEFAULT_MAXCONN 4096u
#define CFG_MAX_WEIGHT 256
#define CFG_MAX_THREADS 64
#define CFG_DEFAULT_LOG_LEN 1024
#define CFG_MAX_LINE 65536 /* longest configuration line, in bytes */
#define CFG_MAX_WORDS 64   /* most words on one line */

enum cfg_severity {
	CFG_SEV_ERROR = 0,
	CFG_SEV_WARNING,
	CFG_SEV_NOTICE,
};

/* One diagnostic: "file:line: text". */
struct cfg_msg {
	struct cfg_msg *next;
	enum cfg_severity severity;
	char *text; /* complete, already prefixed with file:line */
};

struct cfg_msgs {
	struct cfg_msg *head;
	struct cfg_msg **tail;
	int errors;
	int warnings;
};

/* Where a thing was written; `file` points into cfg-owned storage. */
struct cfg_where {
	const char *file;
	int line;
};

struct cfg_addr {
	struct sockaddr_storage ss;
	socklen_t len; /* 0 when unset */
};

enum cfg_mode {
	CFG_MODE_TCP = 0,
	CFG_MODE_HTTP,
};

enum cfg_balance {
	CFG_BALANCE_ROUNDROBIN = 0, /* HAProxy's default */
	CFG_BALANCE_SOURCE,
	CFG_BALANCE_LEASTCONN,
};

enum cfg_hash_type {
	CFG_HASH_MAP_BASED = 0, /* HAProxy's default */
	CFG_HASH_CONSISTENT,
};

/* `hash-type <method> [<function> [avalanche]]`. */
enum cfg_hash_fn {
	CFG_HASH_FN_SDBM = 0, /* HAProxy's default */
	CFG_HASH_FN_DJB2,
	CFG_HASH_FN_WT6,
	CFG_HASH_FN_CRC32,
	CFG_HASH_FN_NONE,
};

enum cfg_verify {
	CFG_VERIFY_DEFAULT = 0, /* not written: `required`, as ssl-server-verify */
	CFG_VERIFY_REQUIRED,
	CFG_VERIFY_NONE,
};

enum cfg_log_kind {
	CFG_LOG_STDERR = 0, /* "stderr" */
	CFG_LOG_STDOUT,     /* "stdout" */
	CFG_LOG_UDP,        /* "host:port" or "udp@host:port"; port defaults to 514 */
	CFG_LOG_UNIX,       /* "/dev/log" or any absolute path: a datagram socket */
};

enum cfg_log_format {
	CFG_LOG_FMT_RFC3164 = 0,
	CFG_LOG_FMT_RAW,
};

/* A `log` target. `log global` in a proxy is kept as a flag, not a target. */
struct cfg_log {
	struct cfg_log *next;
	struct cfg_where where;
	enum cfg_log_kind kind;
	enum cfg_log_format format;
	struct cfg_addr addr; /* UDP */
	char *path;           /* UNIX */
	int facility;         /* syslog facility number 0..23 (local0 = 16) */
	int max_level;        /* 0 emerg .. 7 debug; default 7 */
	int min_level;        /* 0 emerg .. 7 debug; default 0 */
	int maxlen;           /* `len N`: 80..65535, default CFG_DEFAULT_LOG_LEN */
};

struct cfg_bind {
	struct cfg_bind *next;
	struct cfg_where where;
	char *text;           /* the address as written, for logs */
	struct cfg_addr addr; /* "*:port" and ":port" mean IPv4 0.0.0.0 */
	int v4v6;             /* `v4v6`: an IPv6 wildcard also takes IPv4 */
	int v6only;           /* `v6only` */
	char *name;           /* `name X`, NULL when not given */
	int accept_proxy;     /* `accept-proxy`: every connection starts with a PROXY header */
	/* TLS termination (`ssl`) */
	int ssl;
	struct cfg_str *crts;  /* `crt <file|dir>`, in order; the first file is the default */
	char *alpn;            /* `alpn h2,http/1.1` as written */
	int ssl_min_ver;       /* 0 default (TLSv1.2), else 0x0303 / 0x0304 (TLS1_2_VERSION ...) */
	int ssl_max_ver;       /* 0: none */
	char *ciphers;         /* TLS <= 1.2 cipher list */
	char *ciphersuites;    /* TLS 1.3 suites */
	char *tls_ticket_keys; /* `tls-ticket-keys <file>`: shared, reload-proof ticket keys */
};

/* One `http-check send hdr <name> <value>` line. */
struct cfg_hdr {
	struct cfg_hdr *next;
	char *name;
	char *value;
};

/* What an HTTP health check sends and expects (`option httpchk`,
 * `http-check send|expect|connect`). */
struct cfg_httpchk {
	int enabled;        /* `option httpchk` seen */
	char *method;       /* NULL means "OPTIONS", HAProxy's default */
	char *uri;          /* NULL means "/" */
	char *version;      /* NULL means "HTTP/1.0" */
	struct cfg_hdr *hdrs;
	int expect_status;  /* 0: any 2xx or 3xx, as HAProxy */
	int connect_ssl;    /* `http-check connect ssl` */
	uint16_t connect_port; /* `http-check connect port N`, 0 = unset */
	char *connect_sni;  /* `http-check connect sni X`, NULL = unset */
};

/* A list of strings (bind `crt`). */
struct cfg_str {
	struct cfg_str *next;
	char *s;
};

/* The value is the PROXY version sent (0: none). */
enum cfg_send_proxy {
	CFG_SEND_PROXY_NONE = 0,
	CFG_SEND_PROXY_V1 = 1,
	CFG_SEND_PROXY_V2 = 2,
};

struct cfg_server {
	struct cfg_server *next;
	struct cfg_where where;
	int id;            /* 1-based position in its backend */
	char *name;
	char *host;        /* host part as written (name or literal) */
	uint16_t port;
	struct cfg_addr addr; /* filled by cfg_resolve() */

	int check;         /* `check` */
	unsigned inter_ms; /* `inter`, default CFG_DEFAULT_INTER */
	unsigned fastinter_ms; /* 0 = same as inter */
	unsigned downinter_ms; /* 0 = same as inter */
	int rise;
	int fall;
	uint16_t check_port; /* `port N`, 0 = the server's port */
	char *check_addr;    /* `addr X`, NULL = the server's address */
	int weight;          /* 0..256, default 1 */
	int backup;
	int disabled;        /* starts in maintenance */
	int check_ssl;       /* `check-ssl` */
	char *check_sni;     /* `check-sni NAME` */
	enum cfg_verify verify;  /* for `ssl` data connections and TLS checks */
	char *ca_file;
	/* TLS re-encryption (`ssl`) */
	int ssl;
	char *sni_text;          /* `sni <expr>` as written */
	struct sample_fmt *sni;  /* compiled: ssl_fc_sni, req.hdr(host), ... */
	char *verifyhost;        /* `verifyhost <name>` */
	char *crt;               /* `crt <pem>`: client certificate */
	int ssl_min_ver;         /* `ssl-min-ver`, 0: default */
	int maxconn;         /* 0 = unlimited */

	enum cfg_send_proxy send_proxy; /* `send-proxy`, `send-proxy-v2[-ssl[-cn]]` */
	unsigned pp2_options;           /* PP_V2_F_* bits (proxy_proto.h) */
	int check_send_proxy;           /* `check-send-proxy` */
};

enum cfg_cap {
	CFG_CAP_FE = 1, /* frontend */
	CFG_CAP_BE = 2, /* backend */
	CFG_CAP_DEF = 4, /* a defaults section */
};

/* Boolean options (`option X` / `no option X`). */
enum cfg_opt {
	CFG_OPT_TCPLOG = 1u << 0,
	CFG_OPT_HTTPLOG = 1u << 1,
	CFG_OPT_DONTLOGNULL = 1u << 2,
	CFG_OPT_HTTP_SERVER_CLOSE = 1u << 3,
	CFG_OPT_REDISPATCH = 1u << 4,
	CFG_OPT_LOG_HEALTH_CHECKS = 1u << 5,
	CFG_OPT_TCPKA = 1u << 6,
	CFG_OPT_CLITCPKA = 1u << 7,
	CFG_OPT_SRVTCPKA = 1u << 8,
	CFG_OPT_ALLBACKUPS = 1u << 9, /* spread over all backups, not the first one */
	CFG_OPT_HTTPCLOSE = 1u << 10,  /* close both sides after each response */
	CFG_OPT_FORWARDED = 1u << 11,  /* ppbridge: add an RFC 7239 Forwarded field */
};

struct cfg_timeouts {
	/* milliseconds; 0 = not set in the configuration */
	unsigned connect, client, server, check, queue;
	unsigned http_request, http_keep_alive, client_hs, tunnel;
	unsigned client_fin, server_fin;
	unsigned inspect_delay; /* `tcp-request inspect-delay` */
	unsigned tarpit;        /* `timeout tarpit`; 0: `timeout connect`, as HAProxy */
};

/* `client-ip`: how the servers learn the client's address (ppbridge). */
enum cfg_client_ip {
	CFG_CLIENT_IP_UNSET = 0, /* follow HAProxy semantics of the section */
	CFG_CLIENT_IP_NONE,      /* L4 passthrough, nothing added */
	CFG_CLIENT_IP_XFF,       /* terminate, X-Forwarded-For, re-encrypt */
	CFG_CLIENT_IP_PROXY_V1,  /* L4 passthrough behind a PROXY v1 line */
	CFG_CLIENT_IP_PROXY_V2,  /* L4 passthrough behind a PROXY v2 header */
	CFG_CLIENT_IP_AUTO,      /* per server, as each one's probes found it */
};

/* `load-server-state-from-file`: HAProxy's `global` and `none` (`local`,
 * a file per backend, is refused). */
enum cfg_srv_state_load {
	CFG_SRV_STATE_UNSET = 0, /* not written: none, as HAProxy */
	CFG_SRV_STATE_GLOBAL,    /* the global `server-state-file` */
	CFG_SRV_STATE_NONE,
};

/* `http-reuse`: when may a request ride on an idle server connection that
 * another client session opened (HAProxy's meanings; default safe). */
enum cfg_http_reuse {
	CFG_REUSE_SAFE = 0,
	CFG_REUSE_NEVER,
	CFG_REUSE_AGGRESSIVE,
	CFG_REUSE_ALWAYS,
};

/* `option forwardfor [except <net>] [header <name>] [if-none]`. */
struct cfg_forwardfor {
	int enabled;
	int has_except;
	struct net_cidr except;
	char *header; /* NULL: "X-Forwarded-For" */
	int if_none;
};

/* `track-sc0|1|2 <key> [table <name>]` in tcp-request connection|content
 * and http-request rules: the stream's stick counter <sc> follows the
 * entry of <key> (an address: `src`, `src,ipmask(24,64)`). */
struct cfg_track {
	int sc;
	struct smp_expr *key;
	char *table;                /* written `table <name>`; NULL: the proxy's own */
	const struct cfg_proxy *px; /* cfg_finish(): the proxy whose stick-table it is */
};

enum cfg_http_action {
	CFG_HTTP_DEL_HEADER = 0, /* `http-request del-header <name>` (and reqidel) */
	CFG_HTTP_SET_HEADER,     /* `http-request set-header <name> <fmt>` */
	CFG_HTTP_ADD_HEADER,     /* `http-request add-header <name> <fmt>` */
	CFG_HTTP_USE_SERVICE,    /* `http-request use-service <svc>`: answered by ppbridge */
	CFG_HTTP_TRACK_SC,       /* `http-request track-sc<N> <key> [table <name>]` */
	CFG_HTTP_DENY,           /* `http-request deny [deny_status <code>]` */
	CFG_HTTP_TARPIT,         /* `http-request tarpit [deny_status <code>]`: held, then answered */
};

/* What `http-request use-service` names: services ppbridge answers itself. */
enum cfg_service {
	CFG_SERVICE_NONE = 0,
	CFG_SERVICE_PROMETHEUS, /* `prometheus-exporter`: the metrics exposition */
};

/* One `http-request` rule; applied to every request, in order. */
struct cfg_http_rule {
	struct cfg_http_rule *next;
	struct cfg_where where;
	enum cfg_http_action action;
	char *name;
	struct sample_fmt *fmt; /* set/add: the compiled value (sample.h) */
	enum cfg_service service; /* use-service */
	struct acl_cond *cond;  /* NULL: always */
	struct cfg_track track; /* TRACK_SC */
	int deny_status;        /* DENY (default 403), TARPIT (default 500) */
};

/* `stats http-request allow|deny|auth [realm <r>] [if|unless <cond>]`:
 * who may see the stats page, evaluated in order for its requests. */
enum cfg_stats_action {
	CFG_STATS_ALLOW = 0,
	CFG_STATS_DENY,
	CFG_STATS_AUTH, /* ask for credentials (401) */
};

struct cfg_stats_rule {
	struct cfg_stats_rule *next;
	struct cfg_where where;
	enum cfg_stats_action action;
	char *realm;           /* auth: NULL = the stats realm */
	struct acl_cond *cond; /* NULL: always */
};

/* The `stats` keywords of a proxy: HAProxy's statistics page. */
struct cfg_stats {
	int enabled;             /* `stats enable`, or any keyword that implies it */
	struct cfg_where where;  /* the first stats line (for messages) */
	char *uri;               /* prefix; NULL = CFG_STATS_DEFAULT_URI */
	char *realm;             /* NULL = CFG_STATS_DEFAULT_REALM */
	unsigned refresh_ms;     /* 0: no automatic refresh */
	int hide_version;
	char **auths;            /* `stats auth user:pass`, as written */
	int nauths;
	struct acl_cond *admin;  /* `stats admin if|unless`: NULL = read-only */
	struct cfg_where admin_where;
	int admin_localhost;     /* it was written `stats admin if LOCALHOST` */
	int admin_without_auth;  /* cfg_finish(): ... on loopback-only binds, where
	                          * HAProxy's documented idiom needs no credentials */
	struct cfg_stats_rule *rules; /* `stats http-request`, in order */
};

#define CFG_STATS_DEFAULT_URI "/haproxy?stats"
#define CFG_STATS_DEFAULT_REALM "ppbridge Statistics"

/* `monitor fail if|unless <cond>`: any that holds turns monitor-uri to 503. */
struct cfg_monitor_fail {
	struct cfg_monitor_fail *next;
	struct acl_cond *cond;
};

enum cfg_tcp_action {
	CFG_TCP_ACCEPT = 0,
	CFG_TCP_REJECT,
	CFG_TCP_EXPECT_PROXY, /* `expect-proxy layer4` */
	CFG_TCP_TRACK_SC,     /* `track-sc<N> <key> [table <name>]`: not final */
	CFG_TCP_SILENT_DROP,  /* close without a word (TTL 1 on the reset) */
};

/* `stick-table type ip|ipv6 size <n> [expire <time>] [store <data>,...]`. */
struct cfg_stick_table {
	int declared;
	struct cfg_where where;
	int type;           /* stktable.h's enum stk_type */
	unsigned size;      /* entries */
	unsigned expire_ms; /* 0: entries are only evicted, never expire (HAProxy) */
	unsigned store;     /* bits 1u << enum stk_data */
	unsigned period_ms[16]; /* the rates' periods, by enum stk_data */
};

/* `tcp-request connection <action> [if|unless <condition>]`: evaluated at
 * accept, in order, against the real socket addresses. */
struct cfg_tcp_rule {
	struct cfg_tcp_rule *next;
	struct cfg_where where;
	enum cfg_tcp_action action;
	struct acl_cond *cond; /* NULL: always */
	struct cfg_track track; /* TRACK_SC */
};

/* `use_backend <name> [if|unless <condition>]`: decided before TLS
 * termination, from the client's ClientHello (`req.ssl_sni`); the chosen
 * backend gets the connection at L4. */
struct cfg_use_backend {
	struct cfg_use_backend *next;
	struct cfg_where where;
	char *name;
	struct cfg_proxy *be;  /* resolved */
	struct acl_cond *cond; /* NULL: always */
};

/* A frontend, backend, listen or defaults section. */
struct cfg_proxy {
	struct cfg_proxy *next;
	struct cfg_where where;
	char *name;
	unsigned caps; /* enum cfg_cap bits */
	enum cfg_mode mode;
	struct cfg_where mode_where; /* the `mode` line (maybe in defaults); line 0 = never written */
	struct cfg_bind *binds;
	char *default_backend;
	struct cfg_where default_backend_where;
	struct cfg_proxy *backend; /* resolved: default_backend, or itself for listen */
	enum cfg_balance balance;
	enum cfg_hash_type hash_type;
	enum cfg_hash_fn hash_fn;
	int hash_avalanche;
	struct cfg_server defsrv; /* `default-server` settings new servers start from */
	struct cfg_server *servers;
	int nservers;
	struct cfg_timeouts timeout;
	unsigned maxconn;  /* 0 = global maxconn */
	int retries;       /* default CFG_DEFAULT_RETRIES */
	int redispatch_interval; /* `option redispatch [N]`: default -1 = last retry */
	unsigned options;  /* enum cfg_opt bits */
	unsigned options_set; /* which option bits were written (for defaults) */
	struct cfg_httpchk httpchk;
	struct cfg_log *logs; /* own log targets */
	int log_global;       /* `log global` */
	struct acl *acls;     /* `acl` declarations (not inherited from defaults) */
	struct cfg_tcp_rule *tcp_conn_rules; /* `tcp-request connection`, in order */
	struct cfg_tcp_rule *tcp_content_rules; /* `tcp-request content accept|reject` */
	struct cfg_use_backend *use_backends;   /* in order */
	/* mode http */
	struct cfg_forwardfor forwardfor;
	struct cfg_http_rule *http_rules; /* `http-request`, in order */
	enum cfg_http_reuse http_reuse;
	enum cfg_client_ip client_ip; /* `client-ip`, CFG_CLIENT_IP_UNSET when not written */
	enum cfg_srv_state_load srv_state_load; /* `load-server-state-from-file` */
	/* answered by ppbridge itself (web.c): HAProxy's order on one request
	 * is monitor-uri, then http-request rules (use-service), then stats */
	struct cfg_stats stats;
	int serves_itself; /* cfg_finish(): stats, monitor-uri or use-service: the
	                    * request loop looks for one only then */
	int http_edge;     /* cfg_finish(): http-request track-sc, deny or tarpit rules */
	int content_needs_hello; /* cfg_finish(): a tcp-request content rule reads the
	                          * ClientHello (req.ssl_sni, req_ssl_hello_type) */
	struct cfg_stick_table stick; /* `stick-table` */
	char *monitor_uri;                     /* NULL: none */
	struct cfg_monitor_fail *monitor_fails; /* in order */
};

/* Access levels of `stats socket ... level`, lowest first (the admin
 * socket enforces them; the configuration names them). */
enum adm_level {
	ADM_LEVEL_USER = 0, /* show only */
	ADM_LEVEL_OPERATOR, /* + enable/disable/set server (HAProxy 2.6's default) */
	ADM_LEVEL_ADMIN,    /* + reload */
};

struct cfg_global {
	unsigned maxconn;  /* cfg_finish() fills CFG_DEFAULT_MAXCONN when not written */
	int nbthread;      /* 0 = not written: the daemon picks */
	int daemon;
	char *pidfile;
	struct cfg_log *logs;
	unsigned hard_stop_after_ms; /* 0 = wait for ever */
	int log_send_hostname;       /* accepted; the log module may use it */
	unsigned tune_bufsize;       /* 0 = not set */
	unsigned pp_max_header;      /* `tune.pp-max-header`: largest PROXY header accepted */
	/* `ssl-default-bind-*` / `ssl-default-server-*`: defaults for binds and servers */
	char *ssl_default_bind_ciphers;
	char *ssl_default_bind_ciphersuites;
	int ssl_default_bind_min_ver;
	char *ssl_default_server_ciphers;
	char *ssl_default_server_ciphersuites;
	int ssl_default_server_min_ver;
	int ssl_server_verify_none; /* `ssl-server-verify none` */
	/* `ca-base` / `crt-base`: prefixed to relative `ca-file` / `crt` paths
	 * written after them (the parser stores the joined paths) */
	char *ca_base;
	char *crt_base;
	/* `stats socket <path> [mode <octal>] [level L] [user U] [group G]`, `stats timeout` */
	char *stats_socket;          /* NULL: no admin socket */
	unsigned stats_mode;         /* permission bits; 0600 when not written */
	enum adm_level stats_level;  /* operator when not written */
	char *stats_user, *stats_group; /* owner of the socket file; NULL = unchanged */
	unsigned stats_timeout_ms;   /* idle interactive client; 0 = not written (10s) */
	char *user;                  /* `user`/`uid`: drop to it after binding (name or number) */
	char *client_ip_state;       /* `client-ip-state <file>`: runtime strategies kept here */
	/* `server-state-file <file>` (joined to `server-state-base` by
	 * cfg_finish() when relative): servers' runtime state kept here */
	char *server_state_file;
	char *server_state_base;
	char *group;                 /* `group`/`gid` */
};

/* A `userlist` section: users and groups for HTTP Basic authentication
 * (the fetches http_auth() and http_auth_group(), see auth.h). A user is
 * in a group when its `groups` names the group or the group's `users`
 * names the user; cfg_finish() checks every name and fills `groups`. */
struct cfg_ul_user {
	struct cfg_ul_user *next;
	struct cfg_where where;
	char *name;
	char *hash;                 /* `password`: a crypt(3) hash; NULL with `insecure-password` */
	char *plain;                /* `insecure-password`: NULL with `password` */
	struct cfg_str *group_refs; /* `groups a,b`, as written */
	/* filled by cfg_finish(): the names of every group it is in, in the
	 * order of the groups, comma-separated ("" for none) */
	char *groups;
};

struct cfg_ul_group {
	struct cfg_ul_group *next;
	struct cfg_where where;
	char *name;
	struct cfg_str *user_refs; /* `users a,b`, as written */
};

struct cfg_userlist {
	struct cfg_userlist *next;
	struct cfg_where where;
	char *name;
	struct cfg_ul_user *users;   /* in order */
	struct cfg_ul_group *groups; /* in order */
};

struct cfg {
	struct cfg_global global;
	struct cfg_proxy *proxies; /* frontends, backends and listens, in order (no defaults) */
	char **files;              /* file names, for cfg_where.file */
	int nfiles;
	struct cfg_proxy *defaults; /* every defaults section, kept for `from <name>` */

	struct cfg_userlist *userlists; /* `userlist` sections, in order */
};

/* Messages. */
void cfg_msgs_init(struct cfg_msgs *msgs);
void cfg_msgs_free(struct cfg_msgs *msgs);
void cfg_msg_add(struct cfg_msgs *msgs, enum cfg_severity sev, const struct cfg_where *where,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The tokenizer, alone: one line (without its '\n') becomes words, with
 * HAProxy's quoting, escaping, `#` comments and "${VAR}" expansion inside
 * double quotes. `words` must be zeroed before its first use; it can be
 * reused from line to line and is released by cfg_words_free(). Returns
 * 0 (words->n may be 0 for a blank line) or -1 with `*err` set to a static
 * message. Pure except for getenv(). */
struct cfg_words {
	char *buf;   /* the words, NUL-separated */
	size_t cap;
	int n;
	char *w[CFG_MAX_WORDS + 1]; /* w[n] is NULL */
};
int cfg_tokenize(const char *line, size_t len, struct cfg_words *words, const char **err);
void cfg_words_free(struct cfg_words *words);

/* HAProxy time format: a decimal number with an optional unit among us,
 * ms, s, m, h, d (none = ms). Microseconds round up to whole milliseconds.
 * Values above INT_MAX ms (about 24.8 days) are refused, as HAProxy. */
int cfg_parse_time(const char *text, unsigned *ms, const char **err);

/* Lifecycle. */
struct cfg *cfg_new(void);
void cfg_free(struct cfg *cfg);

/* Parse one file's text into `cfg` (call once per -f file, in order;
 * `defaults` do not carry over from one file to the next, as HAProxy).
 * Returns 0 when no error was found in this text, -1 otherwise. Pure. */
int cfg_parse_text(struct cfg *cfg, const char *file, const char *text, size_t len,
		   struct cfg_msgs *msgs);

/* After all files: resolve default_backend names, fill defaults, check
 * cross-references and limits, warn about missing timeouts. Pure. */
int cfg_finish(struct cfg *cfg, struct cfg_msgs *msgs);

/* Resolve server host names with getaddrinfo(). Not pure. */
int cfg_resolve(struct cfg *cfg, struct cfg_msgs *msgs);

/* Convenience: read files, parse, finish, resolve. */
int cfg_load_files(struct cfg *cfg, char *const *paths, int npaths, struct cfg_msgs *msgs);

/* Name of a client-IP strategy ("none", "xff", "proxy-v1", "proxy-v2",
 * "auto"), and back (-1 for an unknown name). */
const char *cfg_client_ip_name(enum cfg_client_ip v);
int cfg_client_ip_parse(const char *name);

/* Lookup helpers. */
struct cfg_proxy *cfg_find_proxy(const struct cfg *cfg, const char *name, unsigned caps);
/* `stats admin if LOCALHOST` on loopback-only binds: actions without
 * credentials (HAProxy's documented idiom, checked by cfg_finish()). */
int cfg_stats_loopback_admin(const struct cfg_proxy *p);
/* It answers requests itself: stats, monitor-uri or use-service. */
int cfg_serves_itself(const struct cfg_proxy *p);
/* The userlist named `name` in the list that starts at `ul`, or NULL. */
const struct cfg_userlist *cfg_find_userlist(const struct cfg_userlist *ul, const char *name);

/* Effective timeouts, with defaults applied. */
unsigned cfg_timeout_connect(const struct cfg_proxy *be);
unsigned cfg_timeout_client(const struct cfg_proxy *fe);
unsigned cfg_timeout_server(const struct cfg_proxy *be);

#endif
