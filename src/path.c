/* path.c - the client-IP path of one connection (pure). */
#include <config.h>

#include "path.h"

static enum strm_path pass_pp(int pp_version)
{
	return pp_version == 1 ? STRM_PATH_PASS_PP1 : STRM_PATH_PASS_PP2;
}

enum strm_path path_at_accept(enum cfg_client_ip strategy, int derived, int fe_http)
{
	if (strategy == CFG_CLIENT_IP_AUTO)
		return STRM_PATH_PENDING;
	if (strategy == CFG_CLIENT_IP_XFF || (derived && fe_http))
		return STRM_PATH_XFF;
	if (derived)
		return STRM_PATH_RELAY; /* plain HAProxy semantics for a tcp section */
	switch (strategy) {
	case CFG_CLIENT_IP_NONE:
		return STRM_PATH_PASS;
	case CFG_CLIENT_IP_PROXY_V1:
		return STRM_PATH_PASS_PP1;
	case CFG_CLIENT_IP_PROXY_V2:
		return STRM_PATH_PASS_PP2;
	default:
		return fe_http ? STRM_PATH_XFF : STRM_PATH_RELAY;
	}
}

enum strm_path path_auto(int srv_takes_proxy, int be_http, int pp_version)
{
	if (srv_takes_proxy)
		return pass_pp(pp_version);
	return be_http ? STRM_PATH_XFF : STRM_PATH_PASS;
}

enum strm_path path_routed(enum cfg_client_ip strategy)
{
	switch (strategy) {
	case CFG_CLIENT_IP_PROXY_V1:
		return STRM_PATH_PASS_PP1;
	case CFG_CLIENT_IP_PROXY_V2:
		return STRM_PATH_PASS_PP2;
	case CFG_CLIENT_IP_AUTO:
		return STRM_PATH_PENDING;
	default:
		return STRM_PATH_PASS_SRV_PP;
	}
}

enum strm_path path_fallback(int was_pp, int be_http, int pp_version)
{
	if (be_http)
		return STRM_PATH_XFF;
	return was_pp ? STRM_PATH_PASS : pass_pp(pp_version);
}

int path_is_http(enum strm_path p)
{
	return p == STRM_PATH_XFF;
}

int path_terminates_tls(enum strm_path p)
{
	return p == STRM_PATH_XFF || p == STRM_PATH_RELAY;
}

int path_server_tls(enum strm_path p)
{
	return p == STRM_PATH_XFF || p == STRM_PATH_RELAY;
}

int path_fixed_pp(enum strm_path p)
{
	switch (p) {
	case STRM_PATH_PASS:
		return 0;
	case STRM_PATH_PASS_PP1:
		return 1;
	case STRM_PATH_PASS_PP2:
		return 2;
	default:
		return -1;
	}
}

int path_decided(enum strm_path p)
{
	return p != STRM_PATH_PENDING;
}

const char *path_name(enum strm_path p)
{
	static const char *const names[STRM_PATH_COUNT] = {
	    "pending", "relay", "pass", "pass+pp1", "pass+pp2", "pass+srv-pp", "xff"};

	return p < STRM_PATH_COUNT ? names[p] : "?";
}
