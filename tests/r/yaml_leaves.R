# Used by tests/test_r_yaml.py: R's yaml package reading what apins writes, and writing what
# apins reads. Usage: Rscript yaml_leaves.R IN_FILE OUT_FILE
#   prints the leaves of yaml::read_yaml(IN_FILE) after a line "== in", then writes a fixed
#   structure with yaml::write_yaml to OUT_FILE and prints the leaves R reads back from it
#   after a line "== out". A leaf is "path<TAB>class<TAB>value"; strings are UTF-8 hex.
suppressPackageStartupMessages(library(yaml))

leaf <- function(path, class, value) cat(path, "\t", class, "\t", value, "\n", sep = "")

walk <- function(x, path) {
  if (is.null(x)) return(leaf(path, "NULL", ""))
  if (is.list(x)) {
    nm <- names(x)
    if (length(x) == 0) return(leaf(path, if (is.null(nm)) "list" else "map", ""))
    for (i in seq_along(x)) walk(x[[i]], paste0(path, "/", if (is.null(nm)) i else nm[[i]]))
    return(invisible())
  }
  if (length(x) != 1) {
    for (i in seq_along(x)) walk(x[i], paste0(path, "/", i))
    return(invisible())
  }
  if (is.na(x)) return(leaf(path, class(x)[1], "NA"))
  value <- switch(class(x)[1],
    numeric = sprintf("%.17g", x),
    integer = as.character(x),
    logical = if (x) "TRUE" else "FALSE",
    character = paste(as.character(charToRaw(enc2utf8(x))), collapse = ""),
    as.character(x)
  )
  leaf(path, class(x)[1], value)
}

args <- commandArgs(trailingOnly = TRUE)
cat("== in\n")
walk(yaml::read_yaml(args[[1]]), "")

written <- list(
  title = "R's title: with a colon, a # hash and 'quotes'",
  description = "line one\nline two\n  indented line three",
  tricky = list("yes", "no", "null", "~", "TRUE", "0123", "1e5", "2024-05-01", " lead", "trail "),
  numbers = list(int = 42L, negative = -7L, big = 3221225472, float = 2.5, tiny = -1.25e-10,
                 max_int = 2147483647L),
  unicode = "caf\u00e9 \u65e5\u672c \U0001F600",
  nested = list(a = list(b = list(c = "deep", d = c(1L, 2L, 3L))), flags = c(TRUE, FALSE)),
  empty = list(),
  nothing = NULL
)
written$nothing <- NULL
written["nothing"] <- list(NULL)
yaml::write_yaml(written, args[[2]])
cat("== out\n")
walk(yaml::read_yaml(args[[2]]), "")
