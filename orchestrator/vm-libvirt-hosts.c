/* SPDX-License-Identifier: MIT */
/*
 * vm-libvirt-hosts.c - the libvirt hosts as `kfarm hosts` shows them, and
 * the leftover domains of dead kfarm processes.
 *
 * kfarm's domains are created auto-destroyed with their guest process's
 * connection, so a killed kfarm leaves none behind; but a domain that
 * outlived that connection (libvirtd restarted under it) runs on with no
 * one to stop it. Its metadata name the kfarm process and the machine that
 * made it: on each host's first use, and in `kfarm hosts`, the domains of
 * this machine whose process is gone are destroyed. Another machine's are
 * never judged: its pids mean nothing here.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"
#include "log.h"
#include "vm-libvirt.h"
#include "vm.h"

#define NAME_PREFIX "kfarm-"

const char *lv_hostname(void)
{
	static char name[256];

	if (!name[0] && gethostname(name, sizeof(name) - 1) < 0)
		name[0] = 0;
	return name;
}

/*
 * The value of attribute @attr of the first element of @xml (libvirt's
 * serialisation of our metadata: either quote), in @out; 0, or -1 when it
 * has none.
 */
static int xml_attr(const char *xml, const char *attr, char *out, size_t n)
{
	size_t len = strlen(attr);
	const char *p = xml, *end;

	while ((p = strstr(p, attr))) {
		if (p > xml && strchr(" \t\n", p[-1]) && p[len] == '=' &&
		    (p[len + 1] == '\'' || p[len + 1] == '"')) {
			end = strchr(p + len + 2, p[len + 1]);
			if (!end || (size_t)(end - (p + len + 2)) >= n)
				return -1;
			snprintf(out, n, "%.*s", (int)(end - (p + len + 2)), p + len + 2);
			return 0;
		}
		p += len;
	}
	return -1;
}

/*
 * The pid of the dead kfarm process of this machine that made @d, or 0:
 * not a domain of this machine's, no metadata (not ours to judge), or its
 * process is alive (or the pid was taken again: kept, to be safe).
 */
static long dead_owner(virDomainPtr d)
{
	char *meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LV_META_NS, 0);
	char pid_s[32], host[256], *end;
	long pid = 0;

	if (!meta)
		return 0;
	if (xml_attr(meta, "pid", pid_s, sizeof(pid_s)) == 0 &&
	    xml_attr(meta, "host", host, sizeof(host)) == 0 && lv_hostname()[0] &&
	    !strcmp(host, lv_hostname())) {
		errno = 0;
		pid = strtol(pid_s, &end, 10);
		if (errno || *end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			pid = 0;
	}
	free(meta);
	return pid;
}

/*
 * Destroys the leftover domains on @c (host @uri); *@running: the kfarm-
 * domains that run on after that (anyone's), *@vcpus: theirs, *@destroyed:
 * how many went. 0, or -1 with @e when the domains cannot be listed.
 */
static int reap(virConnectPtr c, const char *uri, int *running, int *vcpus, int *destroyed,
		struct kf_error *e)
{
	virDomainPtr *doms = NULL;
	virDomainInfo info;
	int n, i;

	*running = *vcpus = *destroyed = 0;
	n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return error_set(e, uri, 0, 0, "%s: cannot list the domains: %s", uri,
				 lv_err("unknown error"));
	for (i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		long pid;

		if (!name || strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX))) {
			virDomainFree(doms[i]);
			continue;
		}
		pid = dead_owner(doms[i]);
		if (!pid) {
			(*running)++;
			*vcpus += virDomainGetInfo(doms[i], &info) == 0 ? info.nrVirtCpu : 1;
		} else if (virDomainDestroy(doms[i]) == 0) {
			log_info("%s: destroyed leftover domain %s of dead kfarm pid %ld", uri, name,
				 pid);
			(*destroyed)++;
		} else {
			/* gone meanwhile is as good; anything else still runs */
			if (virDomainIsActive(doms[i]) != 0) {
				log_warnx("%s: cannot destroy leftover domain %s of dead kfarm pid "
					  "%ld: %s", uri, name, pid, lv_err("unknown error"));
				(*running)++;
				(*vcpus)++;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	return 0;
}

void lv_reap_leftovers(virConnectPtr c, const char *uri)
{
	struct kf_error e;
	int running, vcpus, destroyed;

	if (reap(c, uri, &running, &vcpus, &destroyed, &e) < 0)
		log_warnx("%s (leftover domains of dead kfarm processes not looked for)", e.text);
}

/*
 * The section of capabilities @caps for guests of @arch: the text from its
 * <arch name='ARCH'> to the end of that <guest> (NUL at its </guest>, in
 * place), or NULL.
 */
static char *caps_arch(char *caps, const char *arch)
{
	char tag[64], *p, *end;

	snprintf(tag, sizeof(tag), "<arch name='%s'>", arch);
	p = strstr(caps, tag);
	if (!p)
		return NULL;
	end = strstr(p, "</guest>");
	if (end)
		*end = 0;
	return p;
}

/*
 * Host @h's pool into @o ("pool": {"name", "state", "path", "capacity",
 * "available"}); 0, or -1 with @why when it is there but not usable. A
 * missing pool is no fault: the first run defines it at pool_path.
 */
static int check_pool(struct lv_host *h, virConnectPtr c, json_t *o, char *why, size_t n)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, h->pool);
	json_t *pool = json_pack("{s:s}", "name", h->pool);
	virStoragePoolInfo info;
	virErrorPtr err;
	int active, ret = 0;

	json_object_set_new(o, "pool", pool);
	if (!p) {
		err = virGetLastError();
		if (err && err->code != VIR_ERR_NO_STORAGE_POOL) {
			snprintf(why, n, "storage pool %s cannot be looked up: %s", h->pool,
				 lv_err("unknown error"));
			return -1;
		}
		json_object_set_new(pool, "state", json_string("missing"));
		json_object_set_new(pool, "path", json_string(h->pool_path));
		return 0;
	}
	active = virStoragePoolIsActive(p);
	json_object_set_new(pool, "state", json_string(active > 0 ? "active" : "inactive"));
	if (active > 0 && virStoragePoolGetInfo(p, &info) < 0) {
		snprintf(why, n, "storage pool %s: no information: %s", h->pool,
			 lv_err("unknown error"));
		ret = -1;
	} else if (active > 0) {
		json_object_set_new(pool, "capacity", json_integer((json_int_t)info.capacity));
		json_object_set_new(pool, "available", json_integer((json_int_t)info.available));
	}
	virStoragePoolFree(p);
	return ret;
}

/*
 * Host @h checked into @o: connection, driver, version, domain types,
 * leftovers destroyed, slots and pool; 0, or -1 with @why (the first fault).
 */
static int check_host(struct lv_host *h, json_t *o, char *why, size_t n)
{
	virConnectPtr c = virConnectOpen(h->uri);
	struct kf_error e;
	const char *type;
	char *caps = NULL, *x86;
	unsigned long v = 0;
	int running, vcpus, destroyed, slots, ret = -1;

	json_object_set_new(o, "reachable", json_boolean(c != NULL));
	if (!c) {
		snprintf(why, n, "cannot connect: %s", lv_err("unknown error"));
		return -1;
	}
	type = virConnectGetType(c);
	json_object_set_new(o, "driver", type ? json_string(type) : json_null());
	if (!type || strcmp(type, "QEMU")) {
		snprintf(why, n, "not a QEMU driver (libvirt says \"%s\"): kfarm runs its guests "
			 "with QEMU, e.g. qemu:///system", type ? type : lv_err("no type"));
		goto cleanup;
	}
	if (virConnectGetVersion(c, &v) < 0) {
		snprintf(why, n, "no hypervisor version: %s", lv_err("unknown error"));
		goto cleanup;
	}
	json_object_set_new(o, "version", json_sprintf("%lu.%lu.%lu", v / 1000000,
						       v / 1000 % 1000, v % 1000));
	caps = virConnectGetCapabilities(c);
	x86 = caps ? caps_arch(caps, "x86_64") : NULL;
	json_object_set_new(o, "kvm", json_boolean(x86 && strstr(x86, "<domain type='kvm'")));
	/* TCG: libvirt's domain type "qemu" */
	json_object_set_new(o, "tcg", json_boolean(x86 && strstr(x86, "<domain type='qemu'")));
	if (!caps) {
		snprintf(why, n, "no capabilities: %s", lv_err("unknown error"));
		goto cleanup;
	}
	if (!x86 || (!strstr(x86, "<domain type='kvm'") && !strstr(x86, "<domain type='qemu'"))) {
		snprintf(why, n, "offers no x86_64 guests (neither kvm nor tcg domains)");
		goto cleanup;
	}
	if (reap(c, h->uri, &running, &vcpus, &destroyed, &e) < 0) {
		snprintf(why, n, "cannot list the domains: %s", lv_err("unknown error"));
		goto cleanup;
	}
	slots = lv_host_slots(h, c);
	json_object_set_new(o, "slots", json_integer(slots));
	json_object_set_new(o, "running", json_integer(running));
	json_object_set_new(o, "free_slots", json_integer(vcpus < slots ? slots - vcpus : 0));
	json_object_set_new(o, "destroyed", json_integer(destroyed));
	ret = check_pool(h, c, o, why, n);
cleanup:
	free(caps);
	virConnectClose(c);
	return ret;
}

json_t *vm_libvirt_hosts_check(int *unusable)
{
	json_t *all = json_array();
	struct lv_host *h;
	size_t i;

	*unusable = 0;
	for (i = 0; (h = lv_host_nth(i)); i++) {
		json_t *o = json_pack("{s:s, s:b, s:o}", "uri", h->uri, "usable", 0, "slots",
				      h->slots > 0 ? json_integer(h->slots) : json_null());
		char why[1024] = "";

		if (check_host(h, o, why, sizeof(why)) < 0) {
			json_object_set_new(o, "error", json_string(why));
			(*unusable)++;
		} else {
			json_object_set_new(o, "usable", json_true());
		}
		json_array_append_new(all, o);
	}
	return all;
}

/* @b bytes for a reader: "12.3G". */
static void put_size(FILE *f, json_int_t b)
{
	if (b >= 1LL << 30)
		fprintf(f, "%.1fG", (double)b / (1LL << 30));
	else
		fprintf(f, "%.1fM", (double)b / (1 << 20));
}

/* @o's member @k: a boolean as "yes" or "no". */
static const char *yes_no(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "yes" : "no";
}

void vm_libvirt_hosts_print(FILE *f, json_t *checked)
{
	json_t *o, *pool;
	size_t i;

	json_array_foreach(checked, i, o) {
		const char *uri = json_string_value(json_object_get(o, "uri"));
		const char *err = json_string_value(json_object_get(o, "error"));
		const char *state;

		pool = json_object_get(o, "pool");
		state = json_string_value(json_object_get(pool, "state"));
		if (!json_is_true(json_object_get(o, "reachable"))) {
			fprintf(f, "%s: not usable: %s\n", uri, err);
			continue;
		}
		fprintf(f, "%s: %s: reachable", uri, err ? "not usable" : "ok");
		if (json_object_get(o, "version"))
			fprintf(f, ", QEMU %s, kvm %s, tcg %s",
				json_string_value(json_object_get(o, "version")), yes_no(o, "kvm"),
				yes_no(o, "tcg"));
		if (json_object_get(o, "free_slots"))
			fprintf(f, ", %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " slots free",
				json_integer_value(json_object_get(o, "free_slots")),
				json_integer_value(json_object_get(o, "slots")));
		if (state && !strcmp(state, "missing")) {
			fprintf(f, ", pool %s missing (would be created at %s)",
				json_string_value(json_object_get(pool, "name")),
				json_string_value(json_object_get(pool, "path")));
		} else if (state && json_object_get(pool, "available")) {
			fprintf(f, ", pool %s %s (", json_string_value(json_object_get(pool, "name")),
				state);
			put_size(f, json_integer_value(json_object_get(pool, "available")));
			fputs(" free)", f);
		} else if (state) {
			fprintf(f, ", pool %s %s (started at first use)",
				json_string_value(json_object_get(pool, "name")), state);
		}
		if (err)
			fprintf(f, "; %s", err);
		fputc('\n', f);
	}
}
