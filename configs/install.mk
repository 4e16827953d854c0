# install.mk - make install, make uninstall (included by the Makefile, after
# its build rules: it names their outputs).
#   make install [PREFIX=/usr/local] [DESTDIR=DIR] [BINDIR= MANDIR= SYSCONFDIR= UNITDIR=]
#   make uninstall (the same variables)
# Installs kfarm and kfarmd (BINDIR), kfarm-guest and the guest initramfs
# (KFARM_LIBDIR), kfarm(1) and kfarmd(8) (MANDIR), kfarmd.service (UNITDIR,
# @BINDIR@ and @SYSCONFDIR@ filled in), the kfarm user (SYSUSERSDIR, for
# systemd-sysusers) and configs/default.json as SYSCONFDIR/kfarm/kfarm.json
# unless that file is there already (it is the admin's then).
#
# An installed kfarm finds kfarm-guest and initramfs.cpio in lib/kfarm/
# beside the bin/ it runs from (run.c: installed()), so KFARM_LIBDIR follows
# BINDIR and the tree can be moved (DESTDIR installs work as they are); a
# build tree's binaries use the build/ paths compiled in.

ifndef KFARM_INSTALL_MK
KFARM_INSTALL_MK := 1
ifeq ($(.DEFAULT_GOAL),)
$(error configs/install.mk: include it after the Makefile's rules, so that 'make' alone still builds)
endif

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
# /etc for /usr, else PREFIX/etc
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
# systemd's own unit folder for /usr (pkg-config systemd), else
# PREFIX/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too)
SYSTEMD_PC  = $(if $(filter /usr,$(PREFIX)),$(shell pkg-config --variable=$(1) systemd 2>/dev/null))
UNITDIR     ?= $(or $(call SYSTEMD_PC,systemdsystemunitdir),$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(or $(call SYSTEMD_PC,sysusersdir),$(PREFIX)/lib/sysusers.d)
KFARM_LIBDIR := $(patsubst %/,%,$(dir $(patsubst %/,%,$(BINDIR))))/lib/kfarm
INSTALL     ?= install

INSTALL_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install uninstall
install: $(BUILD)/kfarm $(BUILD)/kfarmd $(GBUILD)/kfarm-guest $(INITRAMFS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(KFARM_LIBDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSCONFDIR)/kfarm
	$(INSTALL) -m 755 $(BUILD)/kfarm $(BUILD)/kfarmd $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 755 $(GBUILD)/kfarm-guest $(DESTDIR)$(KFARM_LIBDIR)/
	$(INSTALL) -m 644 $(INITRAMFS) $(DESTDIR)$(KFARM_LIBDIR)/initramfs.cpio
	$(INSTALL) -m 644 orchestrator/man/kfarm.1 $(DESTDIR)$(MANDIR)/man1/kfarm.1
	$(INSTALL) -m 644 orchestrator/man/kfarmd.8 $(DESTDIR)$(MANDIR)/man8/kfarmd.8
	$(INSTALL_SUBST) configs/kfarmd.service >$(DESTDIR)$(UNITDIR)/kfarmd.service.tmp
	@if grep -n '@[A-Z_]*@' $(DESTDIR)$(UNITDIR)/kfarmd.service.tmp; then \
		echo "install: kfarmd.service: a @VARIABLE@ left unsubstituted" >&2; exit 1; fi
	chmod 644 $(DESTDIR)$(UNITDIR)/kfarmd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/kfarmd.service.tmp $(DESTDIR)$(UNITDIR)/kfarmd.service
	$(INSTALL) -m 644 configs/kfarm.sysusers $(DESTDIR)$(SYSUSERSDIR)/kfarm.conf
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json ]; then \
		echo "install: $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json exists: kept"; \
	else \
		echo "$(INSTALL) -m 644 configs/default.json $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json"; \
		$(INSTALL) -m 644 configs/default.json $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json; \
	fi
	@# On the live system (no DESTDIR): the user, and what systemd needs to know.
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers $(SYSUSERSDIR)/kfarm.conf"; \
		systemd-sysusers $(SYSUSERSDIR)/kfarm.conf || \
			echo "install: systemd-sysusers failed: create the user kfarm (group kvm) by hand"; \
		echo "install: now 'systemctl daemon-reload' and 'systemctl enable --now kfarmd'"; \
	fi

# The config stays if it is not the one install put there; the user stays.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kfarm $(DESTDIR)$(BINDIR)/kfarmd \
		$(DESTDIR)$(KFARM_LIBDIR)/kfarm-guest $(DESTDIR)$(KFARM_LIBDIR)/initramfs.cpio \
		$(DESTDIR)$(MANDIR)/man1/kfarm.1 $(DESTDIR)$(MANDIR)/man8/kfarmd.8 \
		$(DESTDIR)$(UNITDIR)/kfarmd.service $(DESTDIR)$(SYSUSERSDIR)/kfarm.conf
	@if cmp -s configs/default.json $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json; then \
		echo "rm -f $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json"; \
		rm -f $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json ]; then \
		echo "uninstall: $(DESTDIR)$(SYSCONFDIR)/kfarm/kfarm.json was changed: kept"; \
	fi
	rmdir $(DESTDIR)$(KFARM_LIBDIR) $(DESTDIR)$(SYSCONFDIR)/kfarm 2>/dev/null || true
endif
