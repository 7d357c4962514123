#!/bin/sh
# Loupe's pipe-pane reader. tmux starts it as
#   exec /bin/sh <this file> <tmux socket path> <pane id>
# and nothing else: ids and paths never go into the pipe-pane command, because tmux expands
# #{...}, #(...) and % there. This script looks the rest up itself.
#
# It appends the pane's raw bytes to the pane's spool file (pane option @loupe_spool) and, when
# the pipe closes, touches "<spool>.eof" so the capture host knows the spool is complete.
# No Node process per pane: the capture host converts spools into JSONL.
#
# tmux is found on PATH (the tmux server's PATH, which is the PATH of whoever started it), then
# in the usual install folders.
set -u
socket=$1
pane=$2
tmux_bin=$(command -v tmux 2>/dev/null)
for candidate in /usr/bin/tmux /usr/local/bin/tmux /opt/homebrew/bin/tmux; do
  [ -n "$tmux_bin" ] && break
  [ -x "$candidate" ] && tmux_bin=$candidate
done
[ -n "$tmux_bin" ] || { echo "loupe-pipe: tmux not found on PATH" >&2; exit 127; }
spool=$("$tmux_bin" -S "$socket" show-options -pqv -t "$pane" @loupe_spool) || exit 1
[ -n "$spool" ] || exit 1
# A failed write (a full disk) is not the end of the pane's output: exit without the EOF marker,
# so the host sees a dead pipe, re-attaches and records the gap, instead of ending the capture.
cat >> "$spool" || exit 1
# Tell the host the spool is complete, unless it has already closed the capture and removed it.
[ -e "$spool" ] && : > "$spool.eof"
