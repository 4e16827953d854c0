/* SPDX-License-Identifier: MIT */
/*
 * diff.html: one self-contained page (inline CSS and JavaScript, no network at
 * view time). The matrix is plain HTML written here, so it shows without
 * JavaScript; the diff and the failed guests' console excerpts are embedded as
 * JSON, from which a click on a cell builds the detail panel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "export.h"
#include "report.h"
#include "util.h"

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em;margin:0 0 .3em}\n"
	".sides{margin:.2em 0 1em;color:#444}\n"
	".legend span{display:inline-block;padding:.1em .5em;margin-right:.4em;border-radius:3px}\n"
	"table.matrix{border-collapse:collapse;margin:1em 0}\n"
	".matrix th,.matrix td{border:1px solid #ccc;padding:.25em .6em}\n"
	".matrix thead th{background:#f4f4f4}\n"
	".matrix tbody th{text-align:left;font-weight:normal;font-family:monospace}\n"
	".matrix td.v{cursor:pointer;text-align:center;font-size:.85em}\n"
	".matrix td.v:hover,.matrix td.v:focus{outline:2px solid #333}\n"
	".matrix td.selected{outline:3px solid #000}\n"
	".matrix td.none{background:#fafafa}\n"
	".badge{font-size:.75em;background:#ffe9a8;border-radius:3px;padding:0 .3em;margin-left:.4em}\n"
	".v-same{background:#c8efc8}.v-changed{background:#ffc078}\n"
	".v-distribution-changed{background:#ff9b6b}.v-flaky{background:#dcc6f5}\n"
	".v-unsupported{background:#e2e2e2;color:#666}.v-error{background:#f08080}\n"
	"#detail{border:1px solid #bbb;border-radius:4px;padding:.8em 1em;max-width:110em}\n"
	"#detail h2{font-size:1.15em;margin:0 0 .4em}\n"
	".sidebyside{display:flex;gap:1.5em;flex-wrap:wrap}\n"
	".side{flex:1 1 30em;min-width:20em}\n"
	".side h3{font-size:1em;margin:.6em 0 .3em}\n"
	"table.obs{border-collapse:collapse}\n"
	".obs th,.obs td{border:1px solid #ccc;padding:.15em .5em;font-family:monospace}\n"
	".obs th{background:#f4f4f4}\n"
	".hl{background:#fff176;font-weight:bold}\n"
	"pre.console{background:#111;color:#eee;padding:.5em;overflow:auto;max-height:20em}\n"
	"code.replay{display:block;background:#f4f4f4;padding:.4em;white-space:pre-wrap;word-break:break-all}\n";

static const char js[] =
	"(function () {\n"
	"  'use strict';\n"
	"  var data = JSON.parse(document.getElementById('kfarm-data').textContent);\n"
	"  var cells = {};\n"
	"  data.diff.cells.forEach(function (c) { cells[c.scenario + '/' + c.smp] = c; });\n"
	"  var panel = document.getElementById('detail');\n"
	"  function el(tag, cls, text) {\n"
	"    var e = document.createElement(tag);\n"
	"    if (cls) e.className = cls;\n"
	"    if (text !== undefined) e.textContent = text;\n"
	"    return e;\n"
	"  }\n"
	"  function key(o, k) { return k in o ? JSON.stringify(o[k]) : '(absent)'; }\n"
	"  function values(side, k) {\n"
	"    var s = {};\n"
	"    ((side && side.outcomes) || []).forEach(function (o) { s[key(o.observation, k)] = 1; });\n"
	"    return s;\n"
	"  }\n"
	"  function sideBox(name, side, other, c) {\n"
	"    var box = el('div', 'side'), k = data.diff[name];\n"
	"    box.id = 'side-' + name;\n"
	"    box.appendChild(el('h3', null, name + ': ' + k.kernel +\n"
	"                       (k.release ? ' (' + k.release + ')' : '')));\n"
	"    if (!side) {\n"
	"      box.appendChild(el('p', 'missing', 'missing: no such cell in run ' + k.run));\n"
	"      return box;\n"
	"    }\n"
	"    box.appendChild(el('p', 'status', 'status: ' + side.status +\n"
	"                       (side.error ? ': ' + side.error : '') + (side.racy ? ' (racy)' : '')));\n"
	"    var keys = [];\n"
	"    side.outcomes.forEach(function (o) {\n"
	"      Object.keys(o.observation).forEach(function (f) { if (keys.indexOf(f) < 0) keys.push(f); });\n"
	"    });\n"
	"    keys.sort();\n"
	"    if (side.outcomes.length) {\n"
	"      var t = el('table', 'obs'), hr = el('tr');\n"
	"      hr.appendChild(el('th', null, 'count'));\n"
	"      keys.forEach(function (f) {\n"
	"        hr.appendChild(el('th', c.fields.indexOf(f) >= 0 ? 'hl' : null, f));\n"
	"      });\n"
	"      t.appendChild(hr);\n"
	"      side.outcomes.forEach(function (o) {\n"
	"        var tr = el('tr');\n"
	"        tr.appendChild(el('td', 'count', String(o.count)));\n"
	"        keys.forEach(function (f) {\n"
	"          var has = f in o.observation;\n"
	"          var differs = c.fields.indexOf(f) >= 0 && !(key(o.observation, f) in values(other, f));\n"
	"          tr.appendChild(el('td', differs ? 'hl' : null, has ? String(o.observation[f]) : '\\u2014'));\n"
	"        });\n"
	"        t.appendChild(tr);\n"
	"      });\n"
	"      box.appendChild(t);\n"
	"    }\n"
	"    var con = (data.console[name] || {})[String(c.smp)];\n"
	"    if (con && side.status !== 'ok' && side.status !== 'unsupported') {\n"
	"      box.appendChild(el('h4', null, 'console' + (con.console ? ' ' + con.console : '') +\n"
	"                         ': guest ' + (con.status || '?') + (con.error ? ': ' + con.error : '')));\n"
	"      box.appendChild(el('pre', 'console', con.lines.length ? con.lines.join('\\n') : '(no excerpt)'));\n"
	"    }\n"
	"    return box;\n"
	"  }\n"
	"  function show(td) {\n"
	"    var c = cells[td.getAttribute('data-cell')];\n"
	"    if (!c) return;\n"
	"    Array.prototype.forEach.call(document.querySelectorAll('td.selected'),\n"
	"                                 function (x) { x.classList.remove('selected'); });\n"
	"    td.classList.add('selected');\n"
	"    panel.textContent = '';\n"
	"    var h = el('h2', null, c.scenario + ' \\u00b7 smp ' + c.smp + ' \\u00b7 ');\n"
	"    h.appendChild(el('span', 'verdict v-' + c.verdict, c.verdict));\n"
	"    panel.appendChild(h);\n"
	"    if (c.reason) panel.appendChild(el('p', 'reason', c.reason));\n"
	"    function num(x) { return x < 1e-3 ? x.toExponential(2) : x.toPrecision(3); }\n"
	"    if (c.p_value !== undefined)\n"
	"      panel.appendChild(el('p', 'pvalue', 'p = ' + num(c.p_value) + ' (' + c.test + ', ' +\n"
	"                           (c.boots ? c.boots.a + ' and ' + c.boots.b + ' boots' : '') +\n"
	"                           '), ' + data.diff.correction + ' ' + num(c.p_adjusted) +\n"
	"                           ' over ' + data.diff.family + ' tested cells, family-wise alpha ' +\n"
	"                           data.diff.alpha + (c.racy ? '; scenario marked racy' : '')));\n"
	"    if (c.effect)\n"
	"      panel.appendChild(el('p', 'effect', 'largest change: ' + JSON.stringify(c.effect.observation) +\n"
	"                           ' ' + c.effect.a.toFixed(3) + ' \\u2192 ' + c.effect.b.toFixed(3) +\n"
	"                           ' (b - a ' + c.effect.interval[0].toFixed(2) + ' .. ' +\n"
	"                           c.effect.interval[1].toFixed(2) + ', ' + c.effect.level * 100 + '%)'));\n"
	"    if (c.fields.length) panel.appendChild(el('p', 'fields', 'differing fields: ' + c.fields.join(', ')));\n"
	"    if (c.replay) {\n"
	"      panel.appendChild(el('p', null, 'replay:'));\n"
	"      panel.appendChild(el('code', 'replay', c.replay));\n"
	"    }\n"
	"    var sbs = el('div', 'sidebyside');\n"
	"    sbs.appendChild(sideBox('a', c.a, c.b, c));\n"
	"    sbs.appendChild(sideBox('b', c.b, c.a, c));\n"
	"    panel.appendChild(sbs);\n"
	"    panel.hidden = false;\n"
	"  }\n"
	"  var matrix = document.getElementById('matrix');\n"
	"  matrix.addEventListener('click', function (ev) {\n"
	"    var td = ev.target.closest('td[data-cell]');\n"
	"    if (td) show(td);\n"
	"  });\n"
	"  matrix.addEventListener('keydown', function (ev) {\n"
	"    var td = ev.target.closest('td[data-cell]');\n"
	"    if (td && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); show(td); }\n"
	"  });\n"
	"  var m = /^#cell=(.+)$/.exec(location.hash);\n"
	"  if (m) {\n"
	"    var want = decodeURIComponent(m[1]);\n"
	"    Array.prototype.forEach.call(matrix.querySelectorAll('td[data-cell]'), function (td) {\n"
	"      if (td.getAttribute('data-cell') === want) td.click();\n"
	"    });\n"
	"  }\n"
	"})();\n";

static void put_esc(FILE *f, const char *s)
{
	char *x = export_escape_xml(s ? s : "");

	fputs(x, f);
	free(x);
}

static int cmp_int(const void *x, const void *y)
{
	json_int_t p = *(const json_int_t *)x, q = *(const json_int_t *)y;

	return p < q ? -1 : p > q;
}

static void put_side(FILE *f, const char *label, json_t *side)
{
	const char *rel = json_string_value(json_object_get(side, "release"));

	fprintf(f, "%s: <b>", label);
	put_esc(f, json_string_value(json_object_get(side, "kernel")));
	fputs("</b>", f);
	if (rel) {
		fputs(" (", f);
		put_esc(f, rel);
		fputs(")", f);
	}
	fputs(", run ", f);
	put_esc(f, json_string_value(json_object_get(side, "run")));
}

static int listed(json_t *list, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_string_value(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

/* The matrix: a row per scenario (diff order), a column per SMP size. */
static void put_matrix(FILE *f, json_t *diff)
{
	json_t *cells = json_object_get(diff, "cells"), *c, *rows = json_array(), *index = json_object();
	json_t *dep = json_object_get(diff, "smp_dependent");
	json_int_t *smps = xcalloc(json_array_size(cells) + 1, sizeof(*smps));
	size_t nsmp = 0, i, j, r;

	json_array_foreach(cells, i, c) {
		const char *s = json_string_value(json_object_get(c, "scenario"));
		json_int_t n = json_integer_value(json_object_get(c, "smp"));
		char *k;

		if (!s)
			continue;
		if (!json_object_get(index, s)) {
			json_object_set_new(index, s, json_integer((json_int_t)json_array_size(rows)));
			json_array_append_new(rows, json_string(s));
		}
		for (j = 0; j < nsmp && smps[j] != n; j++)
			;
		if (j == nsmp)
			smps[nsmp++] = n;
		k = xasprintf("%s/%" JSON_INTEGER_FORMAT, s, n);
		json_object_set(index, k, c);
		free(k);
	}
	qsort(smps, nsmp, sizeof(*smps), cmp_int);

	fputs("<table class=\"matrix\" id=\"matrix\">\n<thead><tr><th>scenario</th>", f);
	for (j = 0; j < nsmp; j++)
		fprintf(f, "<th>smp %" JSON_INTEGER_FORMAT "</th>", smps[j]);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (r = 0; r < json_array_size(rows); r++) {
		const char *s = json_string_value(json_array_get(rows, r));

		fputs("<tr><th>", f);
		put_esc(f, s);
		if (listed(json_object_get(dep, "a"), s))
			fputs("<span class=\"badge\" title=\"the outcome on kernel a depends on the SMP size\">smp-dependent on a</span>", f);
		if (listed(json_object_get(dep, "b"), s))
			fputs("<span class=\"badge\" title=\"the outcome on kernel b depends on the SMP size\">smp-dependent on b</span>", f);
		fputs("</th>", f);
		for (j = 0; j < nsmp; j++) {
			char *k = xasprintf("%s/%" JSON_INTEGER_FORMAT, s, smps[j]);
			const char *v;

			c = json_object_get(index, k);
			v = json_string_value(json_object_get(c, "verdict"));
			if (!v) {
				fputs("<td class=\"none\"></td>", f);
			} else {
				fputs("<td class=\"v v-", f);
				put_esc(f, v);
				fputs("\" data-cell=\"", f);
				put_esc(f, k);
				fputs("\" tabindex=\"0\">", f);
				put_esc(f, v);
				if (json_is_true(json_object_get(c, "racy")))
					fputs(" (racy)", f);
				fputs("</td>", f);
			}
			free(k);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	free(smps);
	json_decref(rows);
	json_decref(index);
}

/* {"a": {smp: excerpt}, "b": {...}} for the sides whose guest failed. */
static json_t *console_data(json_t *diff, json_t *run_a, json_t *run_b)
{
	static const char *const sides[] = { "a", "b" };
	json_t *out = json_object(), *c;
	size_t i, s;

	for (s = 0; s < 2; s++) {
		const char *k = json_string_value(json_object_get(json_object_get(diff, sides[s]),
								  "kernel"));
		json_t *m = json_object();

		json_array_foreach(json_object_get(diff, "cells"), i, c) {
			json_int_t smp = json_integer_value(json_object_get(c, "smp"));
			char key[32];
			json_t *ex;

			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, smp);
			if (!k || !export_side_failed(c, sides[s]) || json_object_get(m, key))
				continue;
			ex = report_guest_excerpt(s ? run_b : run_a, k, smp);
			if (ex)
				json_object_set_new(m, key, ex);
		}
		json_object_set_new(out, sides[s], m);
	}
	return out;
}

/* @j as JSON that is safe inside <script>: no '<' at all (JSON strings take \u003c). */
static void put_script_json(FILE *f, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER), *p;

	for (p = text; *p; p++) {
		if (*p == '<')
			fputs("\\u003c", f);
		else
			fputc(*p, f);
	}
	free(text);
}

char *export_html_render(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e)
{
	json_t *sa, *sb, *data;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	if (export_check(diff, run_a, run_b, e) < 0)
		return NULL;
	sa = json_object_get(diff, "a");
	sb = json_object_get(diff, "b");
	f = open_memstream(&buf, &len);
	if (!f) {
		error_set(e, "html", 0, 0, "out of memory");
		return NULL;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
	/* Nothing may load from elsewhere: the page must work offline. */
	fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n", f);
	fputs("<title>kfarm diff: ", f);
	put_esc(f, json_string_value(json_object_get(sa, "kernel")));
	fputs(" vs ", f);
	put_esc(f, json_string_value(json_object_get(sb, "kernel")));
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	fputs("<h1>kfarm diff</h1>\n<p class=\"sides\">", f);
	put_side(f, "a", sa);
	fputs("<br>\n", f);
	put_side(f, "b", sb);
	fputs("</p>\n<p class=\"legend\" id=\"summary\">", f);
	fprintf(f, "%zu cells: ", json_array_size(json_object_get(diff, "cells")));
	for (i = 0; diff_verdict_name(i); i++)
		fprintf(f, "<span class=\"v-%s\">%d %s</span>", diff_verdict_name(i),
			diff_count(diff, diff_verdict_name(i)), diff_verdict_name(i));
	fprintf(f, " (exact test at alpha %g)</p>\n",
		json_number_value(json_object_get(diff, "alpha")));
	put_matrix(f, diff);
	fputs("<p>Click a cell for both sides' observations.</p>\n", f);
	fputs("<section id=\"detail\" hidden></section>\n", f);
	fputs("<script type=\"application/json\" id=\"kfarm-data\">", f);
	data = json_pack("{s:O, s:o}", "diff", diff, "console", console_data(diff, run_a, run_b));
	put_script_json(f, data);
	json_decref(data);
	fprintf(f, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", js);
	fclose(f);
	return buf;
}

int export_html(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		struct kf_error *e)
{
	return export_write_rendered(export_html_render(diff, run_a, run_b, e), path, e);
}
