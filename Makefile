# Build, test and install custom-misp and custom-telegram.
#
#   make build     static binaries in bin/ (CGO_ENABLED=0, version stamped)
#   make test      vet, unit and end-to-end tests with the race detector, fuzz seed corpora
#   make demo      run both programs on the bundled sample alerts against local stand-ins
#   make lint      go vet and gofmt
#   make install   install into $(DESTDIR)$(WAZUH_HOME) (default /var/ossec); run as root
#   make uninstall remove what install put there, except the config and edited templates

GO          ?= go
WAZUH_HOME  ?= /var/ossec
DESTDIR     ?=
# integratord runs the programs as this user and group (the Wazuh 4.x default).
WAZUH_USER  ?= wazuh
WAZUH_GROUP ?= wazuh
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
BINARIES    := custom-misp custom-telegram
# Where build puts the binaries and install takes them from. Tests that run
# make in parallel give each run its own BINDIR.
BINDIR      ?= bin

.PHONY: all build test demo lint install uninstall clean bench

all: build

build:
	@mkdir -p $(BINDIR)
	for b in $(BINARIES); do \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINDIR)/$$b ./cmd/$$b || exit 1; \
	done

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

demo: build
	$(GO) run ./cmd/demo -bin $(BINDIR)

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l cmd internal rules); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf $(BINDIR)

# Whole-process timings with hyperfine and GNU time (apt-get install hyperfine time).
bench-process: build
	$(GO) run ./cmd/demo -bin $(BINDIR) -bench

# install and uninstall run the POSIX sh scripts below. Owners are set only
# when running as root and the wazuh user and group exist, so that a test can
# install into a temporary DESTDIR as any user.
#
#   integrations/custom-*              root:wazuh 0750, as integratord requires: its
#                                      child exits 127 when wazuh can write the file
#   etc/rules/misp_telegram_rules.xml  wazuh:wazuh 0660, like Wazuh's own rule files
#   etc/misp-telegram/                 root:wazuh 0750: templates, the opt-in Sysmon
#                                      rules and config.example.toml
#   etc/misp-telegram.toml             root:wazuh 0640, created once, never overwritten
#   var/misp-telegram/                 wazuh:wazuh 0750: breaker, cache, spool, rate state
#   logs/integrations.log              wazuh:wazuh 0640, created when missing
define install_script
set -eu
home='$(DESTDIR)$(WAZUH_HOME)'
live='$(WAZUH_HOME)'
user='$(WAZUH_USER)'
group='$(WAZUH_GROUP)'
share="$$home/etc/misp-telegram"

# install does not build: a manager often has no Go, and sudo's secure_path
# drops /usr/local/go/bin. Build first, as a user with Go.
for b in $(BINARIES); do
	if [ ! -x "$(BINDIR)/$$b" ]; then
		echo "$(BINDIR)/$$b not found: run make build (it needs Go) before make install" >&2
		exit 1
	fi
done

own=0
if [ "$$(id -u)" -eq 0 ] && id -u "$$user" >/dev/null 2>&1 &&
	{ getent group "$$group" >/dev/null 2>&1 || grep -q "^$$group:" /etc/group; }; then
	own=1
fi
# setown OWNER PATH changes the owner only when that is possible.
setown() { if [ "$$own" -eq 1 ]; then chown "$$1" "$$2"; fi; }
# put SOURCE DEST MODE OWNER copies a file. install(1) replaces DEST with a
# new file, so a binary that integratord is running is not rewritten in place.
put() { install -m "$$3" "$$1" "$$2"; setown "$$4" "$$2"; }
# ourdir DIR MODE OWNER creates a directory of this project and sets its mode.
ourdir() { mkdir -p "$$1"; chmod "$$2" "$$1"; setown "$$3" "$$1"; }

# Wazuh's own directories exist on a manager. They are created only for a
# DESTDIR install, and their modes are left alone.
mkdir -p "$$home/integrations" "$$home/etc/rules" "$$home/logs" "$$home/var"

for b in $(BINARIES); do
	put "$(BINDIR)/$$b" "$$home/integrations/$$b" 0750 "root:$$group"
	echo "installed $$home/integrations/$$b"
done

# The rules file is ours and is overwritten on every install. Local changes
# belong in etc/rules/local_rules.xml, which upgrades keep.
put rules/misp_telegram_rules.xml "$$home/etc/rules/misp_telegram_rules.xml" 0660 "$$user:$$group"
echo "installed $$home/etc/rules/misp_telegram_rules.xml"

ourdir "$$share" 0750 "root:$$group"
ourdir "$$share/templates" 0750 "root:$$group"
# Not active where it is: copying it to etc/rules turns it on (next steps).
put rules/sysmon_lookup_rules.xml "$$share/sysmon_lookup_rules.xml" 0640 "root:$$group"
put config.example.toml "$$share/config.example.toml" 0640 "root:$$group"
echo "installed $$share/sysmon_lookup_rules.xml and $$share/config.example.toml"

for t in templates/*.tmpl; do
	dest="$$share/templates/$${t##*/}"
	if [ -e "$$dest" ] && ! cmp -s "$$t" "$$dest"; then
		put "$$t" "$$dest.new" 0640 "root:$$group"
		echo "kept your edited $$dest; the shipped version is $$dest.new"
	else
		put "$$t" "$$dest" 0640 "root:$$group"
		echo "installed $$dest"
	fi
done

config="$$home/etc/misp-telegram.toml"
if [ -e "$$config" ]; then
	echo "kept the existing $$config"
else
	put config.example.toml "$$config" 0640 "root:$$group"
	echo "created $$config from config.example.toml"
fi

ourdir "$$home/var/misp-telegram" 0750 "$$user:$$group"
log="$$home/logs/integrations.log"
if [ ! -e "$$log" ]; then
	: >"$$log"
	chmod 0640 "$$log"
	setown "$$user:$$group" "$$log"
	echo "created $$log"
fi

if [ "$$own" -eq 0 ]; then
	echo "note: owners were not set (not root, or no $$user user or $$group group here), so the files belong to $$(id -un)"
fi

cat <<NEXT_STEPS

Next steps:
 1. Edit $$live/etc/misp-telegram.toml: misp.url, misp.api_key_file,
    telegram.bot_token_file and telegram.chat_id.
 2. Add to $$live/etc/ossec.conf (exact group names, no space after a comma):
      <integration>
        <name>custom-misp</name>
        <group>sysmon_event1,sysmon_event3,sysmon_event6,sysmon_event7,sysmon_event_15,sysmon_event_22,sysmon_eid1_detections,sysmon_eid3_detections,sysmon_eid7_detections,syscheck_entry_added,syscheck_entry_modified</group>
        <alert_format>json</alert_format>
        <timeout>10</timeout>
        <retries>1</retries>
      </integration>
      <integration>
        <name>custom-telegram</name>
        <rule_id>920100,920101,920102,920103</rule_id>
        <alert_format>json</alert_format>
        <timeout>10</timeout>
      </integration>
 3. Sysmon events reach custom-misp only with the opt-in rules, which raise
    the per-event Sysmon rules from level 0 to 3. Read the file's header
    for the alert volume this adds, then:
      cp $$live/etc/misp-telegram/sysmon_lookup_rules.xml $$live/etc/rules/
 4. Restart: systemctl restart wazuh-manager
 5. Check:   sudo -u $$user $$live/integrations/custom-misp check
             sudo -u $$user $$live/integrations/custom-telegram check -send-test
In a cluster, repeat this on every node: integrations/ and ossec.conf are not synchronised.
NEXT_STEPS
endef

define uninstall_script
set -eu
home='$(DESTDIR)$(WAZUH_HOME)'
share="$$home/etc/misp-telegram"

for b in $(BINARIES); do
	rm -f "$$home/integrations/$$b"
done
rm -f "$$home/etc/rules/misp_telegram_rules.xml" "$$share/config.example.toml" "$$share/sysmon_lookup_rules.xml"
echo "removed the binaries, $$home/etc/rules/misp_telegram_rules.xml, $$share/config.example.toml and $$share/sysmon_lookup_rules.xml"

# Templates and .new files equal to the shipped ones go; edited ones stay.
for t in templates/*.tmpl; do
	for dest in "$$share/templates/$${t##*/}" "$$share/templates/$${t##*/}.new"; do
		if [ ! -e "$$dest" ]; then
			continue
		fi
		if cmp -s "$$t" "$$dest"; then
			rm -f "$$dest"
			echo "removed $$dest"
		else
			echo "kept $$dest: it differs from the shipped template"
		fi
	done
done
rmdir "$$share/templates" "$$share" 2>/dev/null || true

for kept in "$$home/etc/misp-telegram.toml" "$$home/var/misp-telegram" "$$home/logs/integrations.log"; do
	if [ -e "$$kept" ]; then
		echo "kept $$kept"
	fi
done
if [ -e "$$home/etc/rules/sysmon_lookup_rules.xml" ]; then
	echo "kept $$home/etc/rules/sysmon_lookup_rules.xml, which was copied there by hand: remove it to put the Sysmon rules back to level 0"
fi
echo "Remove the custom-misp and custom-telegram <integration> blocks from ossec.conf, then restart wazuh-manager."
endef

install: export MISP_TELEGRAM_INSTALL_SH = $(install_script)
install:
	@sh -c "$$MISP_TELEGRAM_INSTALL_SH"

uninstall: export MISP_TELEGRAM_UNINSTALL_SH = $(uninstall_script)
uninstall:
	@sh -c "$$MISP_TELEGRAM_UNINSTALL_SH"
