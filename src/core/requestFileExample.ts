/**
 * The example a new `.udp` file starts with: one block per thing the format does, all aimed at one echo
 * server, so that "Run All" works as soon as a server is running there.
 */
export function exampleRequestFile(target: string): string {
  return `# Datagram blocks, separated by ### lines. Click "Send" above a block, or press Ctrl+Alt+U inside it.
# Headers: @target, @encoding (utf8 | hex | base64), @timeout, @retries, @expect, @repeat, @rate.
# Built-ins: {{$seq}}, {{$timestamp}}, {{$uuid}}, {{$randomInt min max}}. Comments start with # or //.
@server = ${target}

### hello
@target {{server}}
@expect contains "hello"
hello from UDP Workbench, datagram {{$seq}}

### heartbeat with a deadline
@target {{server}}
@timeout 500
@retries 2
ping {{$seq}} at {{$timestamp}}

### binary
@target {{server}}
@encoding hex
@expect size 4
de ad be ef

### packet loss: a burst of 1000 datagrams at 200/s
@target {{server}}
@repeat 1000
@rate 200/s
@timeout 500
ping
`;
}
