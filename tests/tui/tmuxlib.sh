# Helpers of the workbench tests (sourced): a private tmux server, polling
# of the captured screen, TAP results that dump the screen on failure.
# Needs: q (the qscope binary), plan (the TAP plan).
command -v tmux >/dev/null 2>&1 || { echo "1..0 # SKIP tmux not installed"; exit 0; }
sock=qs$$
work=$(mktemp -d)
home=$work/home
mkdir -p "$home"
T() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$work"' EXIT
n=0
screen() { T capture-pane -p -t qs 2>/dev/null; }
# start W H ENV-AND-ARGS: qscope in a W x H window; when it ends the pane
# shows "EXITED <status>" and the terminal modes that matter
start() {
	w=$1 h=$2
	shift 2
	T kill-server 2>/dev/null
	i=0
	while T has-session 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
	T new-session -d -s qs -x "$w" -y "$h" \
		"env HOME='$home' LC_ALL=\${QS_LC:-C.UTF-8} TERM=\${QS_TERM:-screen} $* ; echo EXITED \$?; stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e echo | tr '\n' ' '; echo; sleep 60"
}
# wait_for TEXT / wait_re REGEX / wait_gone TEXT: poll every 0.1 s for 5 s
wait_for() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
wait_re() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
wait_gone() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qF -- "$1" || return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; screen | sed 's/^/# /'; fi
}
keys() { T send-keys -t qs "$@"; }
# lua CHUNK: type a line at the Lua prompt (opening it first)
lua() { T send-keys -t qs ':' "$1" Enter; }
