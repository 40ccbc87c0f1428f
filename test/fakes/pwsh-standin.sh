#!/bin/bash
# A STAND-IN for Windows PowerShell, for testing the Hyper-V driver over a real SSH
# connection: it takes the argv the driver sends (-NoProfile -NonInteractive
# -EncodedCommand BASE64), decodes the script (UTF-16LE), appends it to $STANDIN_LOG (or
# the file named in STANDIN_LOG_FILE next to this script), and answers with JSON shaped
# after Microsoft's documented properties. Nothing here was recorded on a Hyper-V host.
set -euo pipefail
[ "$1 $2 $3" = "-NoProfile -NonInteractive -EncodedCommand" ] || { echo "stand-in: unexpected arguments: $*" >&2; exit 64; }
script=$(printf '%s' "$4" | base64 -d | iconv -f UTF-16LE -t UTF-8)
log="$(dirname "$0")/../../.scratch/pwsh-standin.log"
[ -n "${MIGBENCH_STANDIN_LOG:-}" ] && log="$MIGBENCH_STANDIN_LOG"
mkdir -p "$(dirname "$log")"
printf '%s\n--- end of script ---\n' "$script" >> "$log"
case "$script" in
  *"Move-VM"*) echo '{"jobId":3,"state":"Running","started":"2026-12-04T14:00:00.0000000Z"}' ;;
  *"Get-Job"*)
    # Odd polls find the move running (with its live-migration counter instance), even
    # polls find it completed (the instance gone), as on a host.
    if [ $(( $(grep -c 'Get-Job' "$log") % 2 )) -eq 1 ]; then
      echo '{"state":"Running","begin":"2026-12-04T14:00:00.2000000Z","end":null,"reason":null,"percent":60,"migrationJobState":4,"liveMigration":[{"Name":"other-vm","MemoryWalkerUncompressedBytesSent":5,"CompressorCompressedBytesSent":0,"TransferPassNumber":1},{"Name":"__VM__","MemoryWalkerUncompressedBytesSent":2147483648,"CompressorCompressedBytesSent":52428800,"TransferPassNumber":4}]}' | sed "s/__VM__/${STANDIN_VM_JSON:-web-01}/"
    else
      echo '{"state":"Completed","begin":"2026-12-04T14:00:00.2000000Z","end":"2026-12-04T14:00:06.7000000Z","reason":null,"percent":100,"migrationJobState":7,"liveMigration":[]}'
    fi ;;
  *"Get-NetAdapterStatistics"*) echo '{"ReceivedBytes":1048576,"SentBytes":2300000000,"ReceivedUnicastPackets":900,"SentUnicastPackets":1600000}' ;;
  *"Get-WinEvent"*) echo '{"id":20415,"time":"2026-12-04T14:00:06.6000000Z","blackoutSeconds":0.318}' ;;
  *"Get-VM -Name"*) echo '{"state":"Running","computerName":"HV1"}' ;;
  *) echo "stand-in: no answer for this script" >&2; exit 1 ;;
esac
