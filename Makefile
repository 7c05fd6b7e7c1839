# The one command that runs coopfed's tests on a fresh machine: make test
.PHONY: test test-short vet fuzz bench

GO ?= go

test: vet testpeer/node_modules/.installed handlers/testdata/a11y/node_modules/.installed
	$(GO) test ./...
	cd testpeer && node --test

# The Fedify test peer's packages, from its lockfile.
testpeer/node_modules/.installed: testpeer/package-lock.json
	cd testpeer && npm ci --no-audit --no-fund
	touch $@

# axe-core, which the browser tests inject into the pages (the
# accessibility audit), from its lockfile.
handlers/testdata/a11y/node_modules/.installed: handlers/testdata/a11y/package-lock.json
	cd handlers/testdata/a11y && npm ci --no-audit --no-fund
	touch $@

# A quick local loop: skips the slow and interop tests.
test-short:
	$(GO) test -short ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# Each fuzz target for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzBest$$' -fuzztime=$(FUZZTIME) ./federation/negotiate/
	$(GO) test -run='^$$' -fuzz='^FuzzParseResource$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeActivity$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeVotes$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzContributionsOf$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeActivityJSON$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzPlainSkipsThePolicies$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeFlag$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeOnePass$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzParagraphsSkipHTMLPolicy$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzPlainOrigin$$' -fuzztime=$(FUZZTIME) ./federation/
	$(GO) test -run='^$$' -fuzz='^FuzzParseSignature$$' -fuzztime=$(FUZZTIME) ./federation/sig/
	$(GO) test -run='^$$' -fuzz='^FuzzCheckDigest$$' -fuzztime=$(FUZZTIME) ./federation/sig/
	$(GO) test -run='^$$' -fuzz='^FuzzPublicKeyVerify$$' -fuzztime=$(FUZZTIME) ./federation/sig/
	$(GO) test -run='^$$' -fuzz='^FuzzVerifyKeyMatchesHTTPSig$$' -fuzztime=$(FUZZTIME) ./federation/sig/
	$(GO) test -run='^$$' -fuzz='^FuzzParseCheckpoint$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzOpenCheckpoint$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseCosignature$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseTilePath$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseEntryBundle$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseProof$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseReceipt$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseRecord$$' -fuzztime=$(FUZZTIME) ./ledger/
	$(GO) test -run='^$$' -fuzz='^FuzzParseHandover$$' -fuzztime=$(FUZZTIME) ./federation/witness/
	$(GO) test -run='^$$' -fuzz='^FuzzParseBallot$$' -fuzztime=$(FUZZTIME) ./governance/
	$(GO) test -run='^$$' -fuzz='^FuzzTally$$' -fuzztime=$(FUZZTIME) ./governance/
	$(GO) test -run='^$$' -fuzz='^FuzzParseAmount$$' -fuzztime=$(FUZZTIME) ./payout/
	$(GO) test -run='^$$' -fuzz='^FuzzSplit$$' -fuzztime=$(FUZZTIME) ./payout/
	$(GO) test -run='^$$' -fuzz='^FuzzCommitURL$$' -fuzztime=$(FUZZTIME) ./githistory/

bench:
	$(GO) run ./cmd/coopbench actor
