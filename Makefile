# The two commands of the README's quick start. Everything they need is installed by scripts/setup.sh.
.PHONY: demo test build setup
demo: setup
	dist/icon demo
test:
	scripts/test.sh
build: setup
setup:
	scripts/setup.sh
