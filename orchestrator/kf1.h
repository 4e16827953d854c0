/* SPDX-License-Identifier: MIT */
#ifndef KFARM_KF1_H
#define KFARM_KF1_H

/*
 * The results channel's framing, one header for both ends: the guest's
 * runner (guest-tests/, a static binary without the host's libraries) writes
 * frames with kf1_header(), the host's parser (orchestrator/results.c) reads
 * them. One record a line:
 *
 *   @KF1 <seq> <len> <crc> <payload>\n
 *
 * seq counts from 0 in decimal, len is the payload's length in bytes
 * (decimal), crc the CRC-32 (IEEE 802.3, as zlib's crc32()) of the payload as
 * 8 lowercase hex digits, payload a JSON object of at most KF1_MAX_PAYLOAD
 * bytes. results.h says how the host validates and orders records.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KF1_TAG "@KF1 "
#define KF1_TAG_LEN (sizeof(KF1_TAG) - 1)
/* The largest payload a frame may carry, and the longest line the host reads. */
#define KF1_MAX_PAYLOAD 60000
#define KF1_MAX_LINE 65536
/*
 * The most distinct observations a cell record carries: the guest folds the
 * rest of a cell's into one outcome {"rep": "truncated"} (and does so as well
 * when the record would pass KF1_MAX_PAYLOAD); the host refuses a record with
 * more. A deterministic cell has one, a racy one a handful.
 */
#define KF1_MAX_OUTCOMES 1024

/** kf1_crc32() - CRC-32 (IEEE 802.3, as zlib's crc32()) of @len bytes. */
static inline uint32_t kf1_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffffu;
	int k;

	/* Bit at a time: the channel carries kilobytes. */
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/**
 * kf1_header() - "@KF1 <seq> <len> <crc> " for @payload of @len bytes into
 * @out (@n bytes); returns its length as snprintf() does.
 */
static inline int kf1_header(char *out, size_t n, unsigned long seq, const char *payload,
			     size_t len)
{
	return snprintf(out, n, KF1_TAG "%lu %zu %08x ", seq, len,
			(unsigned)kf1_crc32(payload, len));
}

#endif
