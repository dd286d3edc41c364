# Sourced by the run scripts: whether a loopback port is free, and waiting
# for a process to open one (its logs are in $logs).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # name port seconds
  for _ in $(seq "$3"); do
    if ! port_free "$2"; then return 0; fi
    sleep 1
  done
  echo "$1 did not open port $2; see $logs" >&2
  return 1
}
