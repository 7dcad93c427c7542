# bash completion for cftoken(1) and git-credential-cftoken   -*- shell-script -*-
#
# Installed as "cftoken" in bash-completion's completionsdir, with a
# "git-credential-cftoken" link next to it.  Profile names come from the
# [profile NAME] headers of the files cftoken reads (lib/config/config.c); this
# file never runs cftoken, so completing cannot mint a token or reach the
# network.  meson puts in the system file's path.

# The [profile NAME] names of the system file, then the user file:
# $CFTOKEN_CONFIG, else $XDG_CONFIG_HOME/cftoken/config (an absolute
# XDG_CONFIG_HOME only), else ~/.config/cftoken/config.
_cftoken_profiles()
{
    local user home file line seen=" "
    local re='^[[:space:]]*\[profile +([^][:space:]]+)\][[:space:]]*$'
    if [[ -n ${CFTOKEN_CONFIG-} ]]; then
        user=$CFTOKEN_CONFIG
    elif [[ ${XDG_CONFIG_HOME-} == /* ]]; then
        user=$XDG_CONFIG_HOME/cftoken/config
    else
        home=${HOME-}
        [[ $home == /* ]] || home=$(getent passwd "$UID" 2>/dev/null | cut -d: -f6)
        [[ $home == /* ]] && user=$home/.config/cftoken/config
    fi
    for file in '@SYSTEM_CONFIG@' ${user:+"$user"}; do
        [[ -f $file && -r $file ]] || continue
        while IFS= read -r line || [[ -n $line ]]; do
            [[ $line =~ $re ]] || continue
            [[ $seen == *" ${BASH_REMATCH[1]} "* ]] && continue
            seen+="${BASH_REMATCH[1]} "
            printf '%s\n' "${BASH_REMATCH[1]}"
        done <"$file"
    done
}

# The options a command takes (cftoken COMMAND --help), or with no
# command those that may come before it (cftoken --help).
_cftoken_options()
{
    local common='--api-url --ca-file --timeout --help'
    case $1 in
        '') printf '%s\n' --account --user --token-file --api-url --ca-file --timeout \
                --profile --min-ttl --format --json --all --verbose --force --dry-run \
                --worker --binding --help --version ;;
        get) echo --profile --force --verbose $common ;;
        store | erase) echo --profile $common ;;
        capability | logout) echo $common ;;
        exec) echo --profile --min-ttl --verbose --proxy $common ;;
        learn) echo --profile --write --json --verbose $common ;;
        env) echo --profile --min-ttl --format --force --verbose $common ;;
        token) echo --profile --min-ttl --force $common ;;
        login) echo --account --token-file $common ;;
        doctor) echo --profile $common ;;
        verify) echo --account --user --token-file --json $common ;;
        create) echo --permission --zone --ttl --not-before --ip-in --ip-not-in --name \
                --force --account --user --token-file $common ;;
        list) echo --all --json --account --user --token-file $common ;;
        revoke) echo --account --user --token-file $common ;;
        roll) echo --profile --account --user --token-file $common ;;
        accounts) echo --token-file $common ;;
        permissions) echo --account --user --token-file $common ;;
        apply | destroy) echo --profile --dry-run --json --token-file $common ;;
        bind | unbind) echo --profile --worker --binding --token-file $common ;;
    esac
}

_cftoken()
{
    local cur prev words cword split
    _init_completion -s || return

    # Options that take a value (helper/backend.c's getopt table).
    local with_arg='--account|--token-file|--api-url|--ca-file|--timeout|--profile|--min-ttl|--format|--worker|--binding|--permission|--zone|--name|--ttl|--not-before|--ip-in|--ip-not-in'
    local commands='get store erase capability exec env login logout doctor verify create
        apply destroy bind unbind token list revoke roll accounts permissions learn'
    [[ ${words[0]##*/} == git-credential-* ]] && commands='get store erase capability'

    # Find the command, and for exec and learn where its program starts: after "--",
    # or at the first word that is not an option.
    local i command= program_at=0
    for ((i = 1; i < cword; i++)); do
        if [[ -z $command ]]; then
            if [[ ${words[i]} == @($with_arg) ]]; then
                ((i++))
            elif [[ ${words[i]} != -* ]]; then
                command=${words[i]}
            fi
        elif [[ $command == @(exec|learn) ]]; then
            if [[ ${words[i]} == -- ]]; then
                program_at=$((i + 1))
                break
            elif [[ ${words[i]} == @($with_arg) ]]; then
                ((i++))
            elif [[ ${words[i]} != -* ]]; then
                program_at=$i
                break
            fi
        fi
    done
    # "cftoken exec wra": the program's name, unless an option wants a value
    if [[ $command == @(exec|learn) ]] && ((program_at == 0)) && [[ $cur != -* ]] &&
        [[ $prev != @($with_arg) ]]; then
        program_at=$cword
    fi
    if ((program_at > 0 && program_at <= cword)); then
        # words[] joins what COMP_WORDBREAKS split ("--profile" "=" "x"), and
        # _command_offset counts in COMP_WORDS: find the program there.
        local k j=0 joined
        for ((k = 0; k < program_at && j <= COMP_CWORD; k++)); do
            joined=${COMP_WORDS[j++]}
            while [[ $joined != "${words[k]}" ]] && ((j <= COMP_CWORD)); do
                joined+=${COMP_WORDS[j++]}
            done
        done
        ((j <= COMP_CWORD)) || j=$program_at
        _command_offset "$j"
        return
    fi

    case $prev in
        --profile)
            COMPREPLY=($(compgen -W "$(_cftoken_profiles)" -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'sh fish json' -- "$cur"))
            return
            ;;
        --token-file)
            _filedir
            [[ - == "$cur"* ]] && COMPREPLY+=(-)
            return
            ;;
        --ca-file)
            _filedir
            return
            ;;
        --account | --api-url | --timeout | --min-ttl | --worker | --binding | \
            --permission | --zone | --name | --ttl | --not-before | --ip-in | --ip-not-in)
            # an id, a URL, a duration, a name or an address: nothing to offer
            return
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_cftoken_options "$command")" -- "$cur"))
    elif [[ -z $command ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
} &&
    complete -F _cftoken cftoken git-credential-cftoken

# ex: filetype=sh
