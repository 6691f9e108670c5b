#!/usr/bin/env bash
# Builds what the Dockerfile builds, without Docker (CI has no engine):
#   1. copies the build context (the repository's files less .dockerignore; git-ignored files are
#      left out too) into a temp dir, and checks that each COPY source is in it;
#   2. runs every RUN line of the Dockerfile's build stages there, verbatim (their WORKDIR /src
#      is that dir), so a build command changed in the Makefile or the Dockerfile is exercised;
#   3. lays out the runtime image (/app/atendimento, /app/web/dist, /app/data), checks that the
#      binary is static, starts it on SQLite and waits for the image's HEALTHCHECK command to pass.
# SKIP_WEB=1 skips the node stage (`make test-web` already runs npm ci and npm run build) and uses
# the repository's web/dist when present. Needs git, go, make (and npm unless SKIP_WEB=1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
server=""
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	chmod -R u+w "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ctx=$tmp/src app=$tmp/app
mkdir -p "$ctx" "$app"

# ignored PATH: whether .dockerignore excludes PATH or a folder above it.
mapfile -t patterns < <(grep -v '^[[:space:]]*\(#\|$\)' "$root/.dockerignore")
ignored() {
	local p=$1 prefix="" part pat
	IFS=/ read -ra parts <<<"$p"
	for part in "${parts[@]}"; do
		prefix=${prefix:+$prefix/}$part
		for pat in "${patterns[@]}"; do
			case $pat in
			'**/'*) [[ $prefix == ${pat#\*\*/} || $prefix == */${pat#\*\*/} ]] && return 0 ;;
			*) [[ $prefix == $pat ]] && return 0 ;;
			esac
		done
	done
	return 1
}

echo "docker-steps: copying the build context to $ctx"
git -C "$root" ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		if [ -e "$root/$f" ] && ! ignored "$f"; then printf '%s\0' "$f"; fi
	done | tar -C "$root" --null -T - -cf - | tar -C "$ctx" -xf -

# Every COPY source from the context must be in it (not left out by .dockerignore).
awk 'toupper($1) == "COPY" && $0 !~ /--from=/ { for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$root/Dockerfile" |
	while read -r src; do
		[ -e "$ctx/$src" ] || { echo "docker-steps: COPY $src: not in the build context (.dockerignore?)" >&2; exit 1; }
	done

# The build stages' RUN lines (continuations joined), as "stage<TAB>command"; the last FROM is
# the runtime stage, which has none (distroless has no shell).
steps=$(awk '
	/^[[:space:]]*#/ { next }
	{ line = line $0 }
	/\\$/ { sub(/\\$/, "", line); next }
	{
		n = split(line, w, /[[:space:]]+/)
		if (toupper(w[1]) == "FROM") { stage = (toupper(w[n-1]) == "AS") ? w[n] : w[2] }
		else if (toupper(w[1]) == "RUN") { sub(/^[[:space:]]*[Rr][Uu][Nn][[:space:]]+/, "", line); print stage "\t" line }
		line = ""
	}' "$root/Dockerfile")
[ -n "$steps" ] || { echo "docker-steps: no RUN line found in the Dockerfile" >&2; exit 1; }

while IFS=$'\t' read -r stage cmd; do
	if [ "$stage" = web ] && [ "${SKIP_WEB:-}" = 1 ]; then
		echo "docker-steps: [$stage] skipped (SKIP_WEB=1): $cmd"
		continue
	fi
	echo "docker-steps: [$stage] $cmd"
	(cd "$ctx" && sh -ec "$cmd")
done <<<"$steps"

# The runtime stage's layout.
bin=$app/atendimento
cp "$ctx/out/atendimento" "$bin"
mkdir -p "$app/data" "$app/web"
if [ -f "$ctx/web/dist/index.html" ]; then
	cp -r "$ctx/web/dist" "$app/web/dist"
elif [ "${SKIP_WEB:-}" = 1 ] && [ -f "$root/web/dist/index.html" ]; then
	cp -r "$root/web/dist" "$app/web/dist"
fi

# Static: Go says so, and so does file(1) when it is installed.
go version -m "$bin" | grep -q 'CGO_ENABLED=0' || { echo "docker-steps: $bin was not built with CGO_ENABLED=0" >&2; exit 1; }
if command -v file >/dev/null 2>&1; then
	file "$bin" | grep -q 'statically linked' || { file "$bin" >&2; echo "docker-steps: $bin is not static" >&2; exit 1; }
fi
echo "docker-steps: $bin is static ($(du -h "$bin" | cut -f1))"

# Start it as the image does (WORKDIR /app, SQLite in data/, no DATABASE_URL) and run the
# image's HEALTHCHECK command until it passes.
port=$((20000 + RANDOM % 20000))
(cd "$app" && exec env -i PATH=/usr/bin:/bin HTTP_ADDR=127.0.0.1:$port ./atendimento serve --demo=true >"$tmp/server.out" 2>"$tmp/server.log") &
server=$!
ok=""
for _ in $(seq 1 100); do
	if (cd "$app" && env -i HTTP_ADDR=127.0.0.1:$port ./atendimento healthcheck >/dev/null 2>&1); then ok=1; break; fi
	kill -0 "$server" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$ok" ]; then
	echo "docker-steps: the server did not become healthy; its log:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi
echo "docker-steps: healthcheck passed (GET /readyz on 127.0.0.1:$port)"
if [ -f "$app/web/dist/index.html" ] && command -v curl >/dev/null 2>&1; then
	curl -fsS "http://127.0.0.1:$port/" | grep -qi '<!doctype html' || { echo "docker-steps: the SPA is not served at /" >&2; exit 1; }
	echo "docker-steps: the SPA is served at /"
fi
[ -f "$app/data/atendimento.db" ] || { echo "docker-steps: no database in data/" >&2; exit 1; }
echo "docker-steps: ok"
