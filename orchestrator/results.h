/* SPDX-License-Identifier: MIT */
#ifndef KFARM_RESULTS_H
#define KFARM_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kf1.h"

/*
 * The results channel (the guest's second serial port), read incrementally.
 * Its framing is kf1.h's (shared with the guest's runner): one record a line,
 *
 *   @KF1 <seq> <len> <crc> <payload>\n
 *
 * with a JSON object as payload whose string member "t" is "hello", then per
 * scenario "start" and "cell", and last "end" whose "count" is the number of
 * records before it. Lines end in \n or \r\n.
 *
 * Text before the last "@KF1 " of a line is kernel noise and ignored; a line
 * without "@KF1 " is ignored entirely. Anything else that does not validate is
 * counted as rejected, with a reason.
 *
 * Sequence rules:
 * - a frame whose length, CRC or JSON fails is rejected and does not advance
 *   the sequence (its header may be the corrupt part);
 * - seq below the next expected one is a retransmission and silently ignored;
 * - seq above it is a gap: recorded (results_gaps(), a "gap: expected 4, got 6"
 *   reason) and the record is still applied, so one lost line does not lose the
 *   rest of the run; results_complete() is false from then on;
 * - an intact frame whose record is invalid (a cell without its start, a cell
 *   with bad fields, an unknown "t") advances the sequence, is counted as
 *   rejected and is not applied;
 * - everything after the end record is ignored.
 *
 * Memory is bounded: a line longer than RESULTS_MAX_LINE bytes is discarded up
 * to its newline and counted as rejected once; a cell record with more than
 * KF1_MAX_OUTCOMES outcomes, one past RESULTS_MAX_CELLS cells, and one that
 * would take the cell payloads kept past RESULTS_MAX_CELL_BYTES, are intact
 * records that are rejected (and not kept).
 */

#define RESULTS_MAX_PAYLOAD KF1_MAX_PAYLOAD
#define RESULTS_MAX_LINE KF1_MAX_LINE
/*
 * The cells one guest's channel may carry: a guest runs at most its space's
 * cells (22,207 in the full space of the catalog of 2026-12), and the bytes
 * of their payloads kept (some 300 a cell; 64 MiB is 200 times a full space's).
 */
#define RESULTS_MAX_CELLS 65536
#define RESULTS_MAX_CELL_BYTES (64u << 20)
/* How many rejection reasons results_reasons() keeps (the first ones). */
#define RESULTS_MAX_REASONS 16

struct results;

/** results_new() - an empty parser (never NULL). */
struct results *results_new(void);

/** results_free() - release @r; NULL is fine. */
void results_free(struct results *r);

/**
 * results_feed() - feed @len bytes as read from the channel, split anywhere.
 * Complete lines are parsed and valid records applied; a partial line waits
 * for the rest. Never fails: bad input is counted and explained.
 */
void results_feed(struct results *r, const char *buf, size_t len);

/**
 * results_finish() - the stream is over: parse a last line that lacks its
 * newline (if it validates, it counts). Further feeding starts a new line.
 */
void results_finish(struct results *r);

/** results_have_hello() - whether a valid hello record was applied. */
int results_have_hello(const struct results *r);

/** results_hello() - the hello payload (borrowed), NULL before one arrived. */
json_t *results_hello(const struct results *r);

/** results_ended() - whether an end record was applied (whatever its count). */
int results_ended(const struct results *r);

/**
 * results_complete() - an end record was applied, its count equals its
 * sequence number and no gap was seen: every record the guest sent arrived.
 */
int results_complete(const struct results *r);

/**
 * results_current() - the scenario whose start arrived but whose cell has not
 * (the one running when a stream stops short), or NULL. Borrowed, valid until
 * the next feed.
 */
const char *results_current(const struct results *r);

/**
 * results_cells() - the applied cell payloads in arrival order, each as the
 * guest sent it ("t", "scenario", "status", "reps", "duration_ms",
 * "outcomes", "error"). Borrowed JSON array; never NULL.
 */
json_t *results_cells(const struct results *r);

/*
 * The fields of a cell payload of results_cells() and of the hello: the
 * record format is the guest's (kfarm-guest.c), read here only.
 */
const char *results_cell_scenario(json_t *cell);
const char *results_cell_status(json_t *cell);
json_t *results_cell_outcomes(json_t *cell);
long long results_cell_duration_ms(json_t *cell);
const char *results_cell_error(json_t *cell);
int results_cell_racy(json_t *cell);

/**
 * results_hello_order() - the order the guest said it runs its cells in
 * (borrowed), or NULL: no hello, or the list was cut to fit one record.
 */
json_t *results_hello_order(json_t *hello);

/** results_hello_uname() - the guest kernel's release as its hello says, or NULL. */
const char *results_hello_uname(json_t *hello);

/** results_hello_order_cut() - whether the hello's list was cut. */
int results_hello_order_cut(json_t *hello);

/** results_nrecords() - records applied (hello, start, cell, end). */
size_t results_nrecords(const struct results *r);

/**
 * results_rejected() - lines that carried "@KF1 " but failed validation, plus
 * intact records that were invalid, plus oversized lines.
 */
size_t results_rejected(const struct results *r);

/** results_gaps() - times the sequence jumped forward. */
size_t results_gaps(const struct results *r);

/**
 * results_last_reject() - the reason of the latest rejection, gap or end count
 * mismatch, e.g.
 * "seq 3: crc mismatch: header 0badf00d, payload 1c291ca3", or NULL.
 */
const char *results_last_reject(const struct results *r);

/**
 * results_reasons() - the first RESULTS_MAX_REASONS reasons (rejections, gaps,
 * end count mismatch) as a borrowed JSON array of strings; never NULL.
 */
json_t *results_reasons(const struct results *r);

/** results_crc32() - CRC-32 (IEEE 802.3, as zlib's crc32()) of @len bytes. */
uint32_t results_crc32(const void *buf, size_t len);

#endif
