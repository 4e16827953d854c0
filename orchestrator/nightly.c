// SPDX-License-Identifier: MIT
/*
 * nightly.c - the "nightly" section of the config: its checks, its schedule
 * (a time of day or a five-field cron expression, in local time) and the
 * comparisons one firing queues (nightly.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "nightly.h"

/* The fields of the section. */
static const char *const fields[] = { "at", "cron", "compare", "smp", "reps", "boots",
				      "scenarios", NULL };

/* A cron field's range and name. */
static const struct {
	const char *name;
	int lo, hi;
} cron_fields[5] = {
	{ "minute", 0, 59 }, { "hour", 0, 23 }, { "day of month", 1, 31 },
	{ "month", 1, 12 }, { "day of week", 0, 7 },
};

__attribute__((format(printf, 6, 7)))
static int bad(char *path, size_t npath, const char *where, char *msg, size_t nmsg,
	       const char *fmt, ...);

static int bad(char *path, size_t npath, const char *where, char *msg, size_t nmsg,
	       const char *fmt, ...)
{
	va_list ap;

	snprintf(path, npath, "%s", where);
	va_start(ap, fmt);
	vsnprintf(msg, nmsg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse "N" at *@p into @v, advancing *@p; -1 if there is no number. */
static int number(const char **p, int *v)
{
	char *end;
	long n = strtol(*p, &end, 10);

	if (end == *p || n < 0 || n > 1000)
		return -1;
	*v = (int)n;
	*p = end;
	return 0;
}

/*
 * One cron field @s into @set (set[i] for each matching value from lo to hi);
 * 0, or -1 when it does not parse.
 */
static int cron_field(const char *s, int lo, int hi, unsigned char *set)
{
	const char *p = s;

	memset(set, 0, 64);
	for (;;) {
		int a = lo, b = hi, step = 1, i;

		if (*p == '*') {
			p++;
		} else {
			if (number(&p, &a) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (number(&p, &b) < 0)
					return -1;
			}
		}
		if (*p == '/') {
			p++;
			if (number(&p, &step) < 0 || step < 1)
				return -1;
			if (a == b && s[0] != '*')
				b = hi;	/* "N/step": from N to the end */
		}
		if (a < lo || b > hi || a > b)
			return -1;
		for (i = a; i <= b; i += step)
			set[i] = 1;
		if (*p == ',') {
			p++;
			continue;
		}
		return *p ? -1 : 0;
	}
}

/* The five fields of @expr into @sets; 0, or -1 with the bad field's index in *@which. */
static int cron_parse(const char *expr, unsigned char sets[5][64], int *which)
{
	char *copy = strdup(expr), *save = NULL, *tok;
	int i = 0, ret = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (i == 5 || cron_field(tok, cron_fields[i].lo, cron_fields[i].hi, sets[i]) < 0) {
			*which = i;
			ret = -1;
			break;
		}
		i++;
	}
	if (!ret && i != 5) {
		*which = i;
		ret = -1;
	}
	free(copy);
	if (!ret && sets[4][7])
		sets[4][0] = 1;	/* 7 is Sunday too */
	return ret;
}

/* Two digits at @s as a number, or -1. */
static int two_digits(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Which of @expr's five fields do not start with a star (every value, or a step of them). */
static void cron_restricted(const char *expr, int restricted[5])
{
	const char *p = expr;
	int i;

	for (i = 0; i < 5; i++) {
		p += strspn(p, " \t");
		restricted[i] = *p != '*';
		p += strcspn(p, " \t");
	}
}

/* "HH:MM" or "HH:MM:SS" into seconds after midnight; -1 if it is not one. */
static long time_of_day(const char *s)
{
	size_t n = strlen(s);
	int h, m, sec = 0;

	if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
		return -1;
	h = two_digits(s);
	m = two_digits(s + 3);
	if (n == 8)
		sec = two_digits(s + 6);
	if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -1;
	return h * 3600L + m * 60L + sec;
}

static int check_kernel_pair(json_t *c, size_t i, char *path, size_t npath, char *msg,
			     size_t nmsg)
{
	static const char *const sides[] = { "a", "b" };
	char where[64];
	const char *k;
	json_t *v;
	size_t j;

	snprintf(where, sizeof(where), "/compare/%zu", i);
	if (!json_is_object(c))
		return bad(path, npath, where, msg, nmsg, "a comparison is {\"a\": K, \"b\": K}");
	json_object_foreach(c, k, v)
		if (strcmp(k, "a") && strcmp(k, "b")) {
			snprintf(where, sizeof(where), "/compare/%zu/%s", i, k);
			return bad(path, npath, where, msg, nmsg, "unknown field '%s' (a, b)", k);
		}
	for (j = 0; j < 2; j++) {
		const char *s = json_string_value(json_object_get(c, sides[j]));

		if (!s || !*s) {
			snprintf(where, sizeof(where), "/compare/%zu/%s", i, sides[j]);
			return bad(path, npath, where, msg, nmsg, "'%s' must be a kernel", sides[j]);
		}
	}
	return 0;
}

int nightly_check(json_t *v, char *path, size_t npath, char *msg, size_t nmsg)
{
	unsigned char sets[5][64];
	const char *k, *at, *cron;
	json_t *x, *cmp;
	size_t i, j;
	int which;

	if (!json_is_object(v))
		return bad(path, npath, "", msg, nmsg, "'nightly' must be an object");
	json_object_foreach(v, k, x) {
		for (i = 0; fields[i] && strcmp(fields[i], k); i++)
			;
		if (!fields[i]) {
			char where[96];

			snprintf(where, sizeof(where), "/%.64s", k);
			return bad(path, npath, where, msg, nmsg, "unknown field '%s' (at, cron, "
				   "compare, smp, reps, boots, scenarios)", k);
		}
	}
	at = json_string_value(json_object_get(v, "at"));
	cron = json_string_value(json_object_get(v, "cron"));
	if (!!json_object_get(v, "at") + !!json_object_get(v, "cron") != 1)
		return bad(path, npath, "", msg, nmsg, "give one of 'at' (\"HH:MM\") and 'cron' "
			   "(\"M H DOM MON DOW\")");
	if (json_object_get(v, "at") && (!at || time_of_day(at) < 0))
		return bad(path, npath, "/at", msg, nmsg, "'at' must be a local time \"HH:MM\" or "
			   "\"HH:MM:SS\"");
	if (json_object_get(v, "cron") && (!cron || cron_parse(cron, sets, &which) < 0))
		return bad(path, npath, "/cron", msg, nmsg, "'cron' must be five fields (minute "
			   "hour day-of-month month day-of-week); the %s is not valid",
			   cron ? cron_fields[which < 5 ? which : 4].name : "expression");
	cmp = json_object_get(v, "compare");
	if (!json_is_array(cmp) || json_array_size(cmp) == 0 || json_array_size(cmp) > 32)
		return bad(path, npath, "/compare", msg, nmsg, "'compare' must be an array of 1 to 32 "
			   "{\"a\": K, \"b\": K}");
	json_array_foreach(cmp, i, x)
		if (check_kernel_pair(x, i, path, npath, msg, nmsg) < 0)
			return -1;
	x = json_object_get(v, "smp");
	if (x) {
		if (!json_is_array(x) || json_array_size(x) == 0 || json_array_size(x) > 8)
			return bad(path, npath, "/smp", msg, nmsg, "'smp' must be 1 to 8 SMP sizes");
		for (j = 0; j < json_array_size(x); j++) {
			json_int_t s = json_integer_value(json_array_get(x, j));

			if (!json_is_integer(json_array_get(x, j)) || s < 1 || s > CONFIG_SMP_MAX)
				return bad(path, npath, "/smp", msg, nmsg, "'smp' must be 1 to 8 SMP "
					   "sizes from 1 to %d", CONFIG_SMP_MAX);
		}
	}
	x = json_object_get(v, "reps");
	if (x && (!json_is_integer(x) || json_integer_value(x) < 1 ||
		  json_integer_value(x) > 100000))
		return bad(path, npath, "/reps", msg, nmsg, "'reps' must be from 1 to 100000");
	x = json_object_get(v, "boots");
	if (x && (!json_is_integer(x) || json_integer_value(x) < 1 ||
		  json_integer_value(x) > CONFIG_BOOTS_MAX))
		return bad(path, npath, "/boots", msg, nmsg, "'boots' must be from 1 to %d",
			   CONFIG_BOOTS_MAX);
	x = json_object_get(v, "scenarios");
	if (x) {
		if (!json_is_array(x) || json_array_size(x) == 0)
			return bad(path, npath, "/scenarios", msg, nmsg, "'scenarios' must be an "
				   "array of cell ids");
		for (j = 0; j < json_array_size(x); j++)
			if (!json_string_value(json_array_get(x, j)))
				return bad(path, npath, "/scenarios", msg, nmsg, "'scenarios' must be "
					   "an array of cell ids");
	}
	return 0;
}

time_t nightly_next(json_t *v, time_t after)
{
	const char *at = json_string_value(json_object_get(v, "at"));
	const char *cron = json_string_value(json_object_get(v, "cron"));
	unsigned char sets[5][64];
	int which, i, restricted[5];
	struct tm tm;
	time_t t;

	if (at) {
		long sod = time_of_day(at);

		if (sod < 0)
			return (time_t)-1;
		/* Today at that time, else tomorrow (mktime() copes with DST). */
		for (i = 0; i < 3; i++) {
			localtime_r(&after, &tm);
			tm.tm_mday += i;
			tm.tm_hour = (int)(sod / 3600);
			tm.tm_min = (int)(sod / 60 % 60);
			tm.tm_sec = (int)(sod % 60);
			tm.tm_isdst = -1;
			t = mktime(&tm);
			if (t > after)
				return t;
		}
		return (time_t)-1;
	}
	if (!cron || cron_parse(cron, sets, &which) < 0)
		return (time_t)-1;
	cron_restricted(cron, restricted);
	/*
	 * Minute by minute from the next whole minute, for up to a year. As in
	 * cron(5): when both the day of month and the day of week are restricted,
	 * either one matching will do.
	 */
	t = after - after % 60 + 60;
	for (i = 0; i < 366 * 24 * 60; i++, t += 60) {
		int dom, dow;

		localtime_r(&t, &tm);
		if (!sets[0][tm.tm_min] || !sets[1][tm.tm_hour] || !sets[3][tm.tm_mon + 1])
			continue;
		dom = sets[2][tm.tm_mday];
		dow = sets[4][tm.tm_wday];
		if (restricted[2] && restricted[4] ? dom || dow : dom && dow)
			return t;
	}
	return (time_t)-1;
}

json_t *nightly_requests(json_t *v)
{
	static const char *const copied[] = { "smp", "reps", "boots", "scenarios" };
	json_t *out = json_array(), *c;
	size_t i, j;

	json_array_foreach(json_object_get(v, "compare"), i, c) {
		json_t *rq = json_pack("{s:s, s:O, s:O}", "kind", "compare",
				       "a", json_object_get(c, "a"), "b", json_object_get(c, "b"));

		for (j = 0; j < sizeof(copied) / sizeof(copied[0]); j++)
			if (json_object_get(v, copied[j]))
				json_object_set(rq, copied[j], json_object_get(v, copied[j]));
		json_array_append_new(out, rq);
	}
	return out;
}
