# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ftl_global_optspecs
    string join \n C/project= json v/verbose q/quiet color= broker-kind= broker-image= h/help V/version
end

function __fish_ftl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ftl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ftl_using_subcommand
    set -l cmd (__fish_ftl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ftl -n "__fish_ftl_needs_command" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_needs_command" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_needs_command" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_needs_command" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_needs_command" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_needs_command" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_needs_command" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_needs_command" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_needs_command" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "init" -d 'Create a new project from the example template'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "new" -d 'Add something to the project'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "dev" -d 'Start the broker when needed, create topics, run every subscription'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "schema" -d 'Print the resolved schema'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "pubsub" -d 'Look inside the local PubSub and drive it'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "settings" -d 'Show the resolved settings and where each value came from'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c ftl -n "__fish_ftl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand init" -l name -d 'Project name (default: the directory\'s name)' -r
complete -c ftl -n "__fish_ftl_using_subcommand init" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand init" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand init" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand init" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand init" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand init" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand init" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand init" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand init" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -f -a "module" -d 'Add a module folder with an example ftl.yaml'
complete -c ftl -n "__fish_ftl_using_subcommand new; and not __fish_seen_subcommand_from module help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -l verb -d 'How its example verb is called: over HTTP, or FTL\'s gRPC VerbService on a module server built with FTL\'s SDKs' -r -f -a "http\t''
grpc\t''"
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from module" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from help" -f -a "module" -d 'Add a module folder with an example ftl.yaml'
complete -c ftl -n "__fish_ftl_using_subcommand new; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l listen -d 'Where the Publisher and admin API listen, overriding `runner.listen` (a loopback address; port 0 picks a free one)' -r
complete -c ftl -n "__fish_ftl_using_subcommand dev" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l open -d 'Open the console in the default browser once ready'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand dev" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand schema" -l format -d 'Output format' -r -f -a "ftl\t''
json\t''"
complete -c ftl -n "__fish_ftl_using_subcommand schema" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand schema" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand schema" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand schema" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand schema" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand schema" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand schema" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand schema" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "status" -d 'Broker, topics with end offsets, subscriptions with lag, dead letters'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "publish" -d 'Publish one event, or NDJSON lines from stdin with `-`'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "tail" -d 'Print events as they arrive'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "replay" -d 'Move a subscription\'s offsets so its verb processes events again'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "trace" -d 'Show one request\'s way through every topic, as the running `ftl dev` saw it'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "deadletters" -d 'List a subscription\'s failed events'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "replay-deadletter" -d 'Hand failed events back to the subscription\'s verb'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "broker" -d 'Manage the broker container'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and not __fish_seen_subcommand_from status publish tail replay trace deadletters replay-deadletter broker help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -l check -d 'Also read each typed topic from its beginning and count the events that do not match its type'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l key -d 'Partition key (default: from the topic\'s `key` pointer)' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l request-key -d 'The request the events belong to (`ftl.request_key`); default: a new request per event' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from publish" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l from -d 'beginning | latest | OFFSET | -N (last N per partition) | TIME (RFC 3339 or -10m)' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s p -l partition -d 'Only this partition (repeatable)' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s n -l limit -d 'Stop after N events' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l no-follow -d 'Stop at the current end instead of waiting for more'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from tail" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -l from -d 'beginning | latest | TIME (RFC 3339 or -10m)' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s y -l yes -d 'Do not ask for confirmation'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s f -l follow -d 'Keep printing the tree as the request goes on'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from trace" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s n -l limit -d 'At most N events' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -l all -d 'Include events already replayed successfully'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from deadletters" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s n -l limit -d 'At most N events' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -l dry-run -d 'Show what would be replayed'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s y -l yes -d 'Do not ask for confirmation (it never asks: accepted so that scripts can pass it to every command that changes something)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from replay-deadletter" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -f -a "start" -d 'Start the broker (create it if absent)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -f -a "stop" -d 'Stop the broker container (its data is kept, except with `tansu`, whose test preset keeps it in memory)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -f -a "logs" -d 'Print the broker\'s logs'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -f -a "reset" -d 'Delete the broker container and its volume: all topics, groups and events'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from broker" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "status" -d 'Broker, topics with end offsets, subscriptions with lag, dead letters'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "publish" -d 'Publish one event, or NDJSON lines from stdin with `-`'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "tail" -d 'Print events as they arrive'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "replay" -d 'Move a subscription\'s offsets so its verb processes events again'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "trace" -d 'Show one request\'s way through every topic, as the running `ftl dev` saw it'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "deadletters" -d 'List a subscription\'s failed events'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "replay-deadletter" -d 'Hand failed events back to the subscription\'s verb'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "broker" -d 'Manage the broker container'
complete -c ftl -n "__fish_ftl_using_subcommand pubsub; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand settings" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand settings" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand settings" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand settings" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand settings" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand settings" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand settings" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand settings" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ftl -n "__fish_ftl_using_subcommand settings" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand completions" -s C -l project -d 'Project directory (holding ftl-project.yaml)' -r -F
complete -c ftl -n "__fish_ftl_using_subcommand completions" -l color -d 'When to color output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ftl -n "__fish_ftl_using_subcommand completions" -l broker-kind -d 'Broker kind, overriding `pubsub.broker.kind` of the project' -r -f -a "redpanda\t''
kafka\t''
tansu\t''
external\t''"
complete -c ftl -n "__fish_ftl_using_subcommand completions" -l broker-image -d 'Broker image, overriding `pubsub.broker.image` and the preset\'s default' -r
complete -c ftl -n "__fish_ftl_using_subcommand completions" -l json -d 'Machine-readable output: one JSON object per line'
complete -c ftl -n "__fish_ftl_using_subcommand completions" -s v -l verbose -d 'More output (-v debug, -vv trace)'
complete -c ftl -n "__fish_ftl_using_subcommand completions" -s q -l quiet -d 'Only errors and data'
complete -c ftl -n "__fish_ftl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ftl -n "__fish_ftl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "init" -d 'Create a new project from the example template'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "new" -d 'Add something to the project'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "dev" -d 'Start the broker when needed, create topics, run every subscription'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "schema" -d 'Print the resolved schema'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "pubsub" -d 'Look inside the local PubSub and drive it'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "settings" -d 'Show the resolved settings and where each value came from'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "completions" -d 'Print shell completions'
complete -c ftl -n "__fish_ftl_using_subcommand help; and not __fish_seen_subcommand_from init new dev schema pubsub settings completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from new" -f -a "module" -d 'Add a module folder with an example ftl.yaml'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "status" -d 'Broker, topics with end offsets, subscriptions with lag, dead letters'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "publish" -d 'Publish one event, or NDJSON lines from stdin with `-`'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "tail" -d 'Print events as they arrive'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "replay" -d 'Move a subscription\'s offsets so its verb processes events again'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "trace" -d 'Show one request\'s way through every topic, as the running `ftl dev` saw it'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "deadletters" -d 'List a subscription\'s failed events'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "replay-deadletter" -d 'Hand failed events back to the subscription\'s verb'
complete -c ftl -n "__fish_ftl_using_subcommand help; and __fish_seen_subcommand_from pubsub" -f -a "broker" -d 'Manage the broker container'
