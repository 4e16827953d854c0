/* SPDX-License-Identifier: MIT */
#ifndef KFARM_WEB_H
#define KFARM_WEB_H

/*
 * web.c - kfarmd's page for people (GET /): one self-contained HTML page
 * (inline CSS and JavaScript, nothing loaded from elsewhere) that reads the
 * API of the same daemon (/v1/jobs...) and shows queued, running and finished
 * jobs with their progress, and links to each job's diff.html.
 */
#include "api.h"

/** web_page() - the page into @rs (200, text/html). */
void web_page(struct api_ctx *ctx, struct api_response *rs);

#endif
