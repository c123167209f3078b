// The scripts `imgcopy completion [bash|zsh]` prints. Both ask the command itself for candidates:
// `imgcopy --get-yargs-completions imgcopy WORD... CURRENT` (COMPLETION_FLAG) prints one per line (yargs' protocol).

// Written with "@{" for the shells' "${" (a template literal would read it); put back by completionScript.
// bash splits words at ":" (COMP_WORDBREAKS), so "oci:./x" arrives as "oci" ":" "./x": the words are
// rebuilt from the line (or, without one, by joining around the colons); candidates are cut back to
// what follows the last colon, as bash replaces only that part; "oci:" and a folder ("oci:./x/") get no
// space after them; an empty
// answer falls back to file names (-o default).
const BASH = String.raw`###-begin-imgcopy-completions-###
# imgcopy completion for bash. Install: source <(imgcopy completion bash)
_imgcopy_completions() {
  local -a words reply
  local i w cur line nospace=
  if [[ -n @{COMP_LINE-} && -n @{COMP_POINT-} ]]; then
    line=@{COMP_LINE:0:COMP_POINT}
    read -ra words <<< "$line"
    [[ $line == *[[:space:]] ]] && words+=("")
  else
    for ((i = 0; i <= COMP_CWORD; i++)); do
      w=@{COMP_WORDS[i]}
      if ((i > 0)) && [[ $w == :* || @{words[@{#words[@]}-1]} == *: ]]; then
        words[@{#words[@]}-1]+=$w
      else
        words+=("$w")
      fi
    done
  fi
  ((@{#words[@]} < 2)) && words+=("")
  cur=@{words[@{#words[@]}-1]}
  mapfile -t reply < <("@{words[0]}" --get-yargs-completions "@{words[@]}" 2>/dev/null)
  COMPREPLY=()
  for w in "@{reply[@]}"; do
    [[ -z $w ]] && continue
    [[ $w == *: || $w == */ ]] && nospace=1
    [[ $cur == *:* ]] && w=@{w#"@{cur%"@{cur##*:}"}"}
    COMPREPLY+=("$w")
  done
  [[ -n $nospace ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -o default -F _imgcopy_completions imgcopy
###-end-imgcopy-completions-###
`;

const ZSH = String.raw`#compdef imgcopy
###-begin-imgcopy-completions-###
# imgcopy completion for zsh (after compinit). Install: source <(imgcopy completion zsh)
_imgcopy() {
  local -a reply refs others
  reply=("@{(@f)$("@{words[1]}" --get-yargs-completions "@{(@)words[1,CURRENT]}" 2>/dev/null)}")
  reply=(@{reply:#})
  if (( @{#reply} == 0 )); then
    # A path after "TRANSPORT:": complete file names after the colon.
    [[ $PREFIX == *:* ]] && compset -P '*:'
    _files
    return
  fi
  refs=(@{(M)reply:#*[:/]})
  others=(@{reply:#*[:/]})
  (( @{#refs} )) && compadd -S '' -- "@{refs[@]}"
  (( @{#others} )) && compadd -- "@{others[@]}"
  return 0
}
if [[ "@{zsh_eval_context[-1]}" == loadautofunc ]]; then
  _imgcopy "$@"
else
  compdef _imgcopy imgcopy
fi
###-end-imgcopy-completions-###
`;

export function completionScript(shell: "bash" | "zsh"): string {
  return (shell === "zsh" ? ZSH : BASH).replaceAll("@{", "${");
}
