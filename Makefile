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
WAZUH_USER  ?= root
WAZUH_GROUP ?= wazuh
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
BINARIES    := custom-misp custom-telegram

.PHONY: all build test demo lint install uninstall clean bench

all: build

build:
	@mkdir -p bin
	for b in $(BINARIES); do \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$b ./cmd/$$b || exit 1; \
	done

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

demo: build
	$(GO) run ./cmd/demo -bin bin

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l cmd internal rules); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin

# Whole-process timings with hyperfine and GNU time (apt-get install hyperfine time).
bench-process: build
	$(GO) run ./cmd/demo -bin bin -bench
