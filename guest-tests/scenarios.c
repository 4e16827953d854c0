// SPDX-License-Identifier: MIT
/*
 * scenarios.c - the registry (from scenarios.def) and the cells of each
 * scenario's variation space.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"

const struct scenario *const scenarios[] = {
#define SCENARIO(name) &scenario_##name,
#include "scenarios.def"
#undef SCENARIO
};

const size_t nscenarios = sizeof(scenarios) / sizeof(scenarios[0]);

const struct scenario *scenario_find(const char *id)
{
	size_t i;

	for (i = 0; i < nscenarios; i++)
		if (!strcmp(scenarios[i]->id, id))
			return scenarios[i];
	return NULL;
}

int cell_parse(const char *text, size_t len, struct cell_spec *c, char *err, size_t nerr)
{
	const char *br = memchr(text, '[', len);
	size_t idlen = br ? (size_t)(br - text) : len;
	char id[CELL_ID_MAX], why[160];
	const char *imp;

	if (idlen == 0 || idlen >= sizeof(id)) {
		snprintf(err, nerr, "bad cell '%.*s'", (int)len, text);
		return -1;
	}
	memcpy(id, text, idlen);
	id[idlen] = '\0';
	c->sc = scenario_find(id);
	if (!c->sc) {
		snprintf(err, nerr, "unknown scenario '%s'", id);
		return -1;
	}
	c->v = variant_default;
	if (br) {
		if (text[len - 1] != ']') {
			snprintf(err, nerr, "cell '%.*s': no closing ']'", (int)len, text);
			return -1;
		}
		if (variant_parse(br + 1, len - idlen - 2, c->sc->axes, &c->v, why, sizeof(why)) < 0) {
			snprintf(err, nerr, "cell '%.*s': %s", (int)len, text, why);
			return -1;
		}
	}
	imp = cell_impossible(c->sc, &c->v);
	if (imp) {
		snprintf(err, nerr, "cell '%.*s' cannot be built: %s", (int)len, text, imp);
		return -1;
	}
	variant_format(c->sc->id, &c->v, c->id, sizeof(c->id));
	return 0;
}

const char *cell_impossible(const struct scenario *sc, const struct variant *v)
{
	const char *why = variant_impossible(v);

	if (!why && sc->impossible)
		why = sc->impossible(v);
	return why;
}

static int feasible(const struct variant *v, const void *arg)
{
	return cell_impossible(arg, v) == NULL;
}

size_t scenario_cells(const struct scenario *sc, enum space space, struct cell_spec *out, size_t max)
{
	static struct variant vs[SPACE_MAX];
	size_t n = 0, nv = 0, i;

	if (!max)
		return 0;
	out[n].sc = sc;
	out[n].v = variant_default;
	variant_format(sc->id, &variant_default, out[n].id, sizeof(out[n].id));
	n++;
	if (space == SPACE_SAMPLE && sc->axes)
		nv = variant_sample(sc->axes, feasible, sc, vs, sizeof(vs) / sizeof(vs[0]));
	else if (space == SPACE_FULL && sc->axes)
		nv = variant_full(sc->axes, feasible, sc, vs, sizeof(vs) / sizeof(vs[0]));
	for (i = 0; i < nv && n < max; i++, n++) {
		out[n].sc = sc;
		out[n].v = vs[i];
		variant_format(sc->id, &vs[i], out[n].id, sizeof(out[n].id));
	}
	return n;
}
