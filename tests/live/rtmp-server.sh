# A loopback nginx-rtmp for the live tests and the live soak, sourced by
# tests/live/live-stream.sh and tests/soak/soak-live.sh (bash).
#   rtmp_free_port                 a free TCP port on 127.0.0.1
#   rtmp_wait_port PORT            until something listens there (5 s at most)
#   rtmp_server_start DIR PORT [RECORD_DIR]
#                                  nginx in the foreground of a background job,
#                                  its files under DIR, application "live";
#                                  RECORD_DIR: record every stream there, one
#                                  file a publication; appends its pid to the
#                                  caller's pids array and waits for the port
#   rtmp_server_stop               stop it and reap it
RTMP_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
rtmp_server_pid=

rtmp_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rtmp_wait_port() {
  python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("nothing listens on port %s" % sys.argv[1])
PY
}

rtmp_server_start() {
  local dir=$1 port=$2 record=${3:-} rec_conf=
  mkdir -p "$dir"
  if [ -n "$record" ]; then
    mkdir -p "$record"
    rec_conf="record all; record_path $record; record_unique on;"
  fi
  cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
load_module $RTMP_MODULE;
events { worker_connections 64; }
rtmp {
  server {
    listen 127.0.0.1:$port;
    application live { live on; $rec_conf }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  rtmp_server_pid=$!
  pids+=("$rtmp_server_pid")
  rtmp_wait_port "$port"
}

rtmp_server_stop() {
  [ -n "$rtmp_server_pid" ] || return 0
  kill "$rtmp_server_pid" 2>/dev/null || true
  wait "$rtmp_server_pid" 2>/dev/null || true
  rtmp_server_pid=
}
