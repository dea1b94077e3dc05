# redirlab. `make test` is what CI runs (with go vet), see .ci/run.
GO ?= go
PKGS := ./...

.PHONY: build test bench vet run sim fuzz clean

build:
	$(GO) build -o redirlab ./cmd/redirlab

test:
	$(GO) test -count=1 -timeout 9m $(PKGS)

vet:
	$(GO) vet $(PKGS)

# Speed figures: the simulator against the plain typed-heap reference
# (../shared/reference/baredes), the recorder, the policy core.
bench:
	./scripts/bench-sim.sh
	$(GO) test -run '^$$' -bench . -benchmem ./policy/ ./results/ ./sim/

run:
	$(GO) run ./cmd/redirlab run

sim:
	$(GO) run ./cmd/redirlab sim

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./scenarios/

clean:
	rm -rf redirlab runs
