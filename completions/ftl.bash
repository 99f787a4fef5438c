_ftl() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="ftl"
                ;;
            ftl,completions)
                cmd="ftl__subcmd__completions"
                ;;
            ftl,dev)
                cmd="ftl__subcmd__dev"
                ;;
            ftl,help)
                cmd="ftl__subcmd__help"
                ;;
            ftl,init)
                cmd="ftl__subcmd__init"
                ;;
            ftl,new)
                cmd="ftl__subcmd__new"
                ;;
            ftl,pubsub)
                cmd="ftl__subcmd__pubsub"
                ;;
            ftl,schema)
                cmd="ftl__subcmd__schema"
                ;;
            ftl,settings)
                cmd="ftl__subcmd__settings"
                ;;
            ftl__subcmd__help,completions)
                cmd="ftl__subcmd__help__subcmd__completions"
                ;;
            ftl__subcmd__help,dev)
                cmd="ftl__subcmd__help__subcmd__dev"
                ;;
            ftl__subcmd__help,help)
                cmd="ftl__subcmd__help__subcmd__help"
                ;;
            ftl__subcmd__help,init)
                cmd="ftl__subcmd__help__subcmd__init"
                ;;
            ftl__subcmd__help,new)
                cmd="ftl__subcmd__help__subcmd__new"
                ;;
            ftl__subcmd__help,pubsub)
                cmd="ftl__subcmd__help__subcmd__pubsub"
                ;;
            ftl__subcmd__help,schema)
                cmd="ftl__subcmd__help__subcmd__schema"
                ;;
            ftl__subcmd__help,settings)
                cmd="ftl__subcmd__help__subcmd__settings"
                ;;
            ftl__subcmd__help__subcmd__new,module)
                cmd="ftl__subcmd__help__subcmd__new__subcmd__module"
                ;;
            ftl__subcmd__help__subcmd__pubsub,broker)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__broker"
                ;;
            ftl__subcmd__help__subcmd__pubsub,deadletters)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__deadletters"
                ;;
            ftl__subcmd__help__subcmd__pubsub,publish)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__publish"
                ;;
            ftl__subcmd__help__subcmd__pubsub,replay)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__replay"
                ;;
            ftl__subcmd__help__subcmd__pubsub,replay-deadletter)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__replay__subcmd__deadletter"
                ;;
            ftl__subcmd__help__subcmd__pubsub,status)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__status"
                ;;
            ftl__subcmd__help__subcmd__pubsub,tail)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__tail"
                ;;
            ftl__subcmd__help__subcmd__pubsub,trace)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__trace"
                ;;
            ftl__subcmd__help__subcmd__pubsub__subcmd__broker,logs)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__logs"
                ;;
            ftl__subcmd__help__subcmd__pubsub__subcmd__broker,reset)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__reset"
                ;;
            ftl__subcmd__help__subcmd__pubsub__subcmd__broker,start)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__start"
                ;;
            ftl__subcmd__help__subcmd__pubsub__subcmd__broker,stop)
                cmd="ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__stop"
                ;;
            ftl__subcmd__new,help)
                cmd="ftl__subcmd__new__subcmd__help"
                ;;
            ftl__subcmd__new,module)
                cmd="ftl__subcmd__new__subcmd__module"
                ;;
            ftl__subcmd__new__subcmd__help,help)
                cmd="ftl__subcmd__new__subcmd__help__subcmd__help"
                ;;
            ftl__subcmd__new__subcmd__help,module)
                cmd="ftl__subcmd__new__subcmd__help__subcmd__module"
                ;;
            ftl__subcmd__pubsub,broker)
                cmd="ftl__subcmd__pubsub__subcmd__broker"
                ;;
            ftl__subcmd__pubsub,deadletters)
                cmd="ftl__subcmd__pubsub__subcmd__deadletters"
                ;;
            ftl__subcmd__pubsub,help)
                cmd="ftl__subcmd__pubsub__subcmd__help"
                ;;
            ftl__subcmd__pubsub,publish)
                cmd="ftl__subcmd__pubsub__subcmd__publish"
                ;;
            ftl__subcmd__pubsub,replay)
                cmd="ftl__subcmd__pubsub__subcmd__replay"
                ;;
            ftl__subcmd__pubsub,replay-deadletter)
                cmd="ftl__subcmd__pubsub__subcmd__replay__subcmd__deadletter"
                ;;
            ftl__subcmd__pubsub,status)
                cmd="ftl__subcmd__pubsub__subcmd__status"
                ;;
            ftl__subcmd__pubsub,tail)
                cmd="ftl__subcmd__pubsub__subcmd__tail"
                ;;
            ftl__subcmd__pubsub,trace)
                cmd="ftl__subcmd__pubsub__subcmd__trace"
                ;;
            ftl__subcmd__pubsub__subcmd__broker,help)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help"
                ;;
            ftl__subcmd__pubsub__subcmd__broker,logs)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__logs"
                ;;
            ftl__subcmd__pubsub__subcmd__broker,reset)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__reset"
                ;;
            ftl__subcmd__pubsub__subcmd__broker,start)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__start"
                ;;
            ftl__subcmd__pubsub__subcmd__broker,stop)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__stop"
                ;;
            ftl__subcmd__pubsub__subcmd__broker__subcmd__help,help)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__help"
                ;;
            ftl__subcmd__pubsub__subcmd__broker__subcmd__help,logs)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__logs"
                ;;
            ftl__subcmd__pubsub__subcmd__broker__subcmd__help,reset)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__reset"
                ;;
            ftl__subcmd__pubsub__subcmd__broker__subcmd__help,start)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__start"
                ;;
            ftl__subcmd__pubsub__subcmd__broker__subcmd__help,stop)
                cmd="ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__stop"
                ;;
            ftl__subcmd__pubsub__subcmd__help,broker)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__broker"
                ;;
            ftl__subcmd__pubsub__subcmd__help,deadletters)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__deadletters"
                ;;
            ftl__subcmd__pubsub__subcmd__help,help)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__help"
                ;;
            ftl__subcmd__pubsub__subcmd__help,publish)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__publish"
                ;;
            ftl__subcmd__pubsub__subcmd__help,replay)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__replay"
                ;;
            ftl__subcmd__pubsub__subcmd__help,replay-deadletter)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__replay__subcmd__deadletter"
                ;;
            ftl__subcmd__pubsub__subcmd__help,status)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__status"
                ;;
            ftl__subcmd__pubsub__subcmd__help,tail)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__tail"
                ;;
            ftl__subcmd__pubsub__subcmd__help,trace)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__trace"
                ;;
            ftl__subcmd__pubsub__subcmd__help__subcmd__broker,logs)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__logs"
                ;;
            ftl__subcmd__pubsub__subcmd__help__subcmd__broker,reset)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__reset"
                ;;
            ftl__subcmd__pubsub__subcmd__help__subcmd__broker,start)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__start"
                ;;
            ftl__subcmd__pubsub__subcmd__help__subcmd__broker,stop)
                cmd="ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__stop"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        ftl)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version init new dev schema pubsub settings completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__completions)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__dev)
            opts="-C -v -q -h -V --listen --open --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help)
            opts="init new dev schema pubsub settings completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__dev)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__init)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__new)
            opts="module"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__new__subcmd__module)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub)
            opts="status publish tail replay trace deadletters replay-deadletter broker"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__broker)
            opts="start stop logs reset"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__logs)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__reset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__start)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__broker__subcmd__stop)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__deadletters)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__publish)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__replay)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__replay__subcmd__deadletter)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__tail)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__pubsub__subcmd__trace)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__schema)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__help__subcmd__settings)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__init)
            opts="-C -v -q -h -V --name --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__new)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version module help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__new__subcmd__help)
            opts="module help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__new__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__new__subcmd__help__subcmd__module)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__new__subcmd__module)
            opts="-C -v -q -h -V --verb --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --verb)
                    COMPREPLY=($(compgen -W "http grpc" -- "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version status publish tail replay trace deadletters replay-deadletter broker help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version start stop logs reset help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help)
            opts="start stop logs reset help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__logs)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__reset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__start)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__help__subcmd__stop)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__logs)
            opts="-f -C -v -q -h -V --follow --tail --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --tail)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__reset)
            opts="-y -C -v -q -h -V --yes --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__start)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__broker__subcmd__stop)
            opts="-C -v -q -h -V --yes --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__deadletters)
            opts="-n -C -v -q -h -V --limit --all --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help)
            opts="status publish tail replay trace deadletters replay-deadletter broker help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__broker)
            opts="start stop logs reset"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__logs)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__reset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__start)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__broker__subcmd__stop)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__deadletters)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__publish)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__replay)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__replay__subcmd__deadletter)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__tail)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__help__subcmd__trace)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__publish)
            opts="-C -v -q -h -V --key --request-key --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --request-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__replay)
            opts="-y -C -v -q -h -V --from --yes --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__replay__subcmd__deadletter)
            opts="-n -y -C -v -q -h -V --dry-run --limit --yes --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__status)
            opts="-C -v -q -h -V --check --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__tail)
            opts="-p -n -C -v -q -h -V --from --partition --limit --no-follow --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --partition)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__pubsub__subcmd__trace)
            opts="-f -C -v -q -h -V --follow --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__schema)
            opts="-C -v -q -h -V --format --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "ftl json" -- "${cur}"))
                    return 0
                    ;;
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ftl__subcmd__settings)
            opts="-C -v -q -h -V --project --json --verbose --quiet --color --broker-kind --broker-image --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --project)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -C)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --broker-kind)
                    COMPREPLY=($(compgen -W "redpanda kafka tansu external" -- "${cur}"))
                    return 0
                    ;;
                --broker-image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _ftl -o nosort -o bashdefault -o default ftl
else
    complete -F _ftl -o bashdefault -o default ftl
fi
