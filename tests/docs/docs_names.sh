# The names README.md and docs/*.md use are real: every `stagebench CMD` is a
# subcommand the front end takes, and every repository path written in
# backquotes or as a relative link exists.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
cd "$SB_SOURCE_DIR" || sb_fail "no source tree"
fe=apps/stagebench/stagebench
# The subcommands: the words of main()'s case in the front end.
cmds=$(awk '/^main\(\)/ { m = 1 } m && /^    [a-z|-]+\)/ { sub(/\).*/, ""); gsub(/\|/, " "); print } m && /^}/ { exit }' "$fe" | tr ' ' '\n' | grep -v '^-' | sort -u)
[ -n "$cmds" ] || sb_fail "could not read the subcommands of $fe"
echo "# subcommands: $(echo $cmds)"
bad=0
for f in README.md docs/*.md; do
  # `stagebench CMD` in code: code spans and the lines of shell blocks.
  while IFS= read -r c; do
    grep -qx -- "$c" <<< "$cmds" || { echo "FAIL: $f names 'stagebench $c', which is not a subcommand" >&2; bad=1; }
  done < <(awk '/^```(sh|bash|shell|console)?$/ && !b { b = 1; sh = ($0 != "```"); next } /^```/ { b = 0; next } b { if (sh) print; next } { while (match($0, /`[^`]+`/)) { print substr($0, RSTART, RLENGTH); $0 = substr($0, RSTART + RLENGTH) } }' "$f" |
           grep -oE '(^|[` /])stagebench [a-z][a-z-]*' | sed -E 's/.*stagebench //' | sort -u)
  # Paths: `dir/file` in code spans, and relative markdown links.
  dir=$(dirname "$f")
  while IFS= read -r p; do
    p=${p%%#*}
    [ -n "$p" ] || continue
    [ -e "$dir/$p" ] || { echo "FAIL: $f links to $p, which does not exist" >&2; bad=1; }
  done < <(grep -oE '\]\([^)#:]+(#[^)]*)?\)' "$f" | sed -E 's/^\]\(//; s/\)$//')
  while IFS= read -r p; do
    [ -e "$p" ] || [ -e "$dir/$p" ] || { echo "FAIL: $f names \`$p\`, which is not in the repository" >&2; bad=1; }
  done < <(grep -oE '`(apps|common|kernels|tests|batch_scripts|results|docs|cmake|\.ci)/[A-Za-z0-9_./{},-]*`' "$f" |
           tr -d '`' | sed -E 's#/$##' | grep -v '[{}*]' | grep -v '<' | sort -u)
done
[ $bad = 0 ] || exit 1
echo "PASS: every stagebench subcommand and repository path named in README.md and docs/*.md exists"
