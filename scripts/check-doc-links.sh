#!/usr/bin/env bash
# Checks every relative link in README.md and docs/*.md: the file or folder exists and, for a #anchor,
# the target has a heading with that GitHub slug. Prints each broken link; exits 1 if there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
slugs() { # GitHub's heading ids: lower case, punctuation dropped, spaces to dashes
  grep -E '^#{1,6} ' "$1" | sed -E 's/^#+ //' | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}
bad=0
for f in README.md docs/*.md; do
  dir=$(dirname "$f")
  # Links inside code blocks are not links: drop fenced blocks first.
  while read -r link; do
    case "$link" in http://*|https://*|mailto:*) continue ;; esac
    path=${link%%#*}; anchor=${link#"$path"}; anchor=${anchor#\#}
    target=$f; [ -n "$path" ] && target="$dir/$path"
    if [ ! -e "$target" ]; then echo "$f: $link: no such file"; bad=1; continue; fi
    if [ -n "$anchor" ] && ! slugs "$target" | grep -qxF "$anchor"; then echo "$f: $link: no heading #$anchor"; bad=1; fi
  done < <(awk '/^```/{c=!c; next} !c' "$f" | grep -oE '\]\([^) ]+\)' | sed -E 's/^\]\((.*)\)$/\1/')
done
[ $bad = 0 ] && echo "all relative links resolve"
exit $bad
