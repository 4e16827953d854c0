/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CLIENT_H
#define KFARM_CLIENT_H

/*
 * client.c - the CLI as a client of kfarmd's API (reports/API.md): one JSON
 * request over libcurl, the server from --server, else $KFARM_SERVER, else
 * http://127.0.0.1:7411; a bearer token from $KFARM_TOKEN when set.
 */
#include <jansson.h>

#include "cli.h"
#include "error.h"

#define CLIENT_DEFAULT_SERVER	"http://127.0.0.1:7411"

/** client_server() - @flag when given, else $KFARM_SERVER, else the default. */
const char *client_server(const char *flag);

/**
 * client_call() - @method @server@path with @body (borrowed; NULL: none) as
 * JSON. Returns the answer's JSON (new) and its HTTP status in *@status; NULL
 * and @e (naming the URL: the connection's error, or the server's "error"
 * and "field" for a 4xx/5xx) when the call failed or did not succeed.
 */
json_t *client_call(const char *server, const char *method, const char *path, json_t *body,
		    long *status, struct kf_error *e);

/**
 * client_wait() - poll job @id until it is in a final state (done, failed,
 * cancelled) or interrupted, showing its progress on a terminal. The job
 * (new), or NULL and @e.
 */
json_t *client_wait(const char *server, const char *id, struct kf_error *e);

/*
 * The builtins kfarm submit, status, wait, cancel and jobs (cli.c has their
 * options): 0 on success, 2 on an error; wait (and submit --wait) exits as
 * compare would, 0 same, 1 changed, 2 for a job that did not end done.
 */
int client_cmd_submit(struct cli *c);
int client_cmd_status(struct cli *c);
int client_cmd_wait(struct cli *c);
int client_cmd_cancel(struct cli *c);
int client_cmd_jobs(struct cli *c);

#endif
