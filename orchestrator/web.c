// SPDX-License-Identifier: MIT
/*
 * web.c - kfarmd's page for people (web.h).
 */
#include <string.h>

#include "util.h"
#include "web.h"

static const char page[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<title>kfarmd</title>\n</head>\n<body>\n<h1>kfarmd</h1>\n"
	"<p>The jobs are at <code>/v1/jobs</code>.</p>\n</body>\n</html>\n";

void web_page(struct api_ctx *ctx, struct api_response *rs)
{
	(void)ctx;
	rs->status = 200;
	rs->content_type = "text/html; charset=utf-8";
	rs->body = xstrdup(page);
	rs->body_len = strlen(rs->body);
}
