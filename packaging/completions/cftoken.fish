# fish completion for cftoken(1) and git-credential-cftoken.  Installed as
# cftoken.fish with a git-credential-cftoken.fish link to it; loading it
# again replaces what it defined.  Profile names come from the
# [profile NAME] headers of the files cftoken reads (lib/config/config.c); this
# file never runs cftoken, so completing cannot mint a token or reach the
# network.  meson puts in the system file's path.

complete -c cftoken -e
complete -c git-credential-cftoken -e

# The [profile NAME] names of the system file, then the user file:
# $CFTOKEN_CONFIG, else $XDG_CONFIG_HOME/cftoken/config (an absolute
# XDG_CONFIG_HOME only), else ~/.config/cftoken/config.
function __cftoken_profiles
    set -l user
    if test -n "$CFTOKEN_CONFIG"
        set user $CFTOKEN_CONFIG
    else if string match -q -- '/*' "$XDG_CONFIG_HOME"
        set user $XDG_CONFIG_HOME/cftoken/config
    else
        set user ~/.config/cftoken/config
    end
    for file in '@SYSTEM_CONFIG@' $user
        test -f $file -a -r $file; or continue
        string replace -rf -- '^\s*\[profile +([^\]\s]+)\]\s*$' '$1' <$file
    end
end

# Options that take a value (helper/backend.c's getopt table).
set -g __cftoken_with_arg --account --token-file --api-url --ca-file --timeout --profile \
    --min-ttl --format --worker --binding --permission --zone --name --ttl --not-before \
    --ip-in --ip-not-in

# Where the command line stands: prints the command ("" before it), and for
# exec and learn the index of the program's first word among the tokens (0: none yet).
function __cftoken_position
    set -l tokens (commandline -opc)
    set -l command ''
    set -l program 0
    set -l i 2
    while test $i -le (count $tokens)
        set -l t $tokens[$i]
        if test -z "$command"
            if contains -- $t $__cftoken_with_arg
                set i (math $i + 1)
            else if not string match -q -- '-*' $t
                set command $t
            end
        else if contains -- "$command" exec learn
            if test "$t" = --
                set program (math $i + 1)
                break
            else if contains -- $t $__cftoken_with_arg
                set i (math $i + 1)
            else if not string match -q -- '-*' $t
                set program $i
                break
            end
        end
        set i (math $i + 1)
    end
    # "cftoken exec wra": the program's name, unless an option wants a value
    if contains -- "$command" exec learn; and test $program -eq 0
        and not string match -q -- '-*' (commandline -ct)
        and not contains -- "$tokens[-1]" $__cftoken_with_arg
        set program (math (count $tokens) + 1)
    end
    echo $command
    echo $program
end

function __cftoken_needs_command
    set -l pos (__cftoken_position)
    test -z "$pos[1]"
end

# True when the option (without --) may come here: before the command, the
# options cftoken --help lists; after it, those of cftoken COMMAND --help.
function __cftoken_takes
    set -l pos (__cftoken_position)
    test $pos[2] -eq 0; or return 1
    set -l own
    switch "$pos[1]"
        case ''
            set own account user token-file api-url ca-file timeout profile min-ttl format \
                json all verbose force dry-run worker binding version
        case get
            set own profile force verbose
        case store erase
            set own profile
        case exec
            set own profile min-ttl verbose proxy
        case learn
            set own profile write json verbose
        case env
            set own profile min-ttl format force verbose
        case token
            set own profile min-ttl force
        case login
            set own account token-file
        case doctor
            set own profile
        case verify
            set own account user token-file json
        case create
            set own permission zone ttl not-before ip-in ip-not-in name force account user token-file
        case list
            set own all json account user token-file
        case revoke
            set own account user token-file
        case roll
            set own profile account user token-file
        case accounts
            set own token-file
        case permissions
            set own account user token-file
        case apply destroy
            set own profile dry-run json token-file
        case bind unbind
            set own profile worker binding token-file
    end
    contains -- $argv[1] $own api-url ca-file timeout help
end

function __cftoken_in_program
    set -l pos (__cftoken_position)
    test $pos[2] -gt 0
end

# exec's and learn's program: completed as its own command line.
function __cftoken_program
    set -l pos (__cftoken_position)
    test $pos[2] -gt 0; or return
    set -l tokens (commandline -opc) (commandline -ct)
    __fish_complete_subcommand --commandline $tokens[$pos[2]..-1]
end

for cmd in cftoken git-credential-cftoken
    complete -c $cmd -f

    complete -c $cmd -n '__cftoken_takes account' -l account -x -d 'the account id'
    complete -c $cmd -n '__cftoken_takes user' -l user -d 'user-owned tokens (/user/tokens) instead'
    complete -c $cmd -n '__cftoken_takes token-file' -l token-file -r -F -a - \
        -d 'read the token from FILE (- for standard input)'
    complete -c $cmd -n '__cftoken_takes api-url' -l api-url -x -d 'the API base URL'
    complete -c $cmd -n '__cftoken_takes ca-file' -l ca-file -r -F -d 'an extra CA bundle'
    complete -c $cmd -n '__cftoken_takes timeout' -l timeout -x -d 'deadline for each API call (seconds)'
    complete -c $cmd -n '__cftoken_takes profile' -l profile -x -a '(__cftoken_profiles)' -d 'the profile'
    complete -c $cmd -n '__cftoken_takes min-ttl' -l min-ttl -x -d 'the token must last at least this long'
    complete -c $cmd -n '__cftoken_takes format' -l format -x -a 'sh fish json' -d 'output format of env'
    complete -c $cmd -n '__cftoken_takes json' -l json -d 'machine-readable output'
    complete -c $cmd -n '__cftoken_takes all' -l all -d "every token of the account, not only cftoken's"
    complete -c $cmd -n '__cftoken_takes verbose' -l verbose -d 'say which cache answered, and why'
    complete -c $cmd -n '__cftoken_takes proxy' -l proxy -d 'a stand-in token and a forwarder that adds the real one'
    complete -c $cmd -n '__cftoken_takes write' -l write -d 'put the learned profile into the configuration file'
    complete -c $cmd -n '__cftoken_takes force' -l force -d 'print a token value even to a terminal'
    complete -c $cmd -n '__cftoken_takes dry-run' -l dry-run -d 'say what would change, change nothing'
    complete -c $cmd -n '__cftoken_takes worker' -l worker -x -d 'the Worker script'
    complete -c $cmd -n '__cftoken_takes binding' -l binding -x -d 'the secret (default CLOUDFLARE_API_TOKEN)'
    complete -c $cmd -n '__cftoken_takes permission' -l permission -x -d 'a permission group, as the dashboard or API names it'
    complete -c $cmd -n '__cftoken_takes zone' -l zone -x -d 'limit zone permissions to this zone (name or id)'
    complete -c $cmd -n '__cftoken_takes name' -l name -x -d 'the token name'
    complete -c $cmd -n '__cftoken_takes ttl' -l ttl -x -d 'expire after this long'
    complete -c $cmd -n '__cftoken_takes not-before' -l not-before -x -d 'valid only from this long from now'
    complete -c $cmd -n '__cftoken_takes ip-in' -l ip-in -x -d 'allow client addresses in CIDR'
    complete -c $cmd -n '__cftoken_takes ip-not-in' -l ip-not-in -x -d 'refuse client addresses in CIDR'
    complete -c $cmd -n '__cftoken_takes help' -s h -l help -d 'show the help'
    complete -c $cmd -n '__cftoken_takes version' -l version -d 'show the version'

    complete -c $cmd -n __cftoken_needs_command -a get -d "git credential helper: answer with the profile's token"
    complete -c $cmd -n __cftoken_needs_command -a store -d 'git credential helper: keep a token a tool hands back'
    complete -c $cmd -n __cftoken_needs_command -a erase -d 'git credential helper: drop the cached token'
    complete -c $cmd -n __cftoken_needs_command -a capability -d 'git credential helper: the capabilities it has (none)'
end

set -l c cftoken
complete -c $c -n __cftoken_needs_command -a exec -d 'run a program with CLOUDFLARE_API_TOKEN set'
complete -c $c -n __cftoken_needs_command -a env -d 'print export lines for eval "$(cftoken env)"'
complete -c $c -n __cftoken_needs_command -a login -d 'verify and keep the parent token (one that may create tokens)'
complete -c $c -n __cftoken_needs_command -a logout -d 'forget the parent token and the tokens cached with it'
complete -c $c -n __cftoken_needs_command -a doctor -d 'check configuration, caches, lock, parent token and profiles'
complete -c $c -n __cftoken_needs_command -a verify -d 'check the token given on stdin or with --token-file'
complete -c $c -n __cftoken_needs_command -a create -d 'create a token and print its value to a pipe'
complete -c $c -n __cftoken_needs_command -a apply -d "make the API hold the profile's declared token, as described"
complete -c $c -n __cftoken_needs_command -a destroy -d "delete the profile's declared token and its bindings"
complete -c $c -n __cftoken_needs_command -a bind -d "store the declared token as a Worker's secret (--worker)"
complete -c $c -n __cftoken_needs_command -a unbind -d 'delete that Worker secret'
complete -c $c -n __cftoken_needs_command -a token -d "print the profile's token to a pipe"
complete -c $c -n __cftoken_needs_command -a list -d 'list the tokens cftoken minted (--all: every token)'
complete -c $c -n __cftoken_needs_command -a revoke -d 'delete the tokens with the given ids'
complete -c $c -n __cftoken_needs_command -a roll -d 'give a token a new value and print it to a pipe'
complete -c $c -n __cftoken_needs_command -a accounts -d 'list the accounts the token can see'
complete -c $c -n __cftoken_needs_command -a permissions -d 'list the permission groups and their ids'
complete -c $c -n __cftoken_needs_command -a learn -d 'run a program through the forwarder and print the least privilege it needs'

# exec's and learn's program and its arguments
complete -c $c -n __cftoken_in_program -x -a '(__cftoken_program)'
