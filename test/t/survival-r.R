# Reference side of test/t/survival-r.py: R's survival package (survfit,
# summary(censored = TRUE), print(rmean =)) on the data sets that the Python
# side wrote, every number printed with sprintf("%.17g") so nothing is lost.
# Usage: Rscript survival-r.R DIR  (DIR holds <name>.csv with columns
# entry, duration, churned, weight; entry or weight NA where not used).
# Writes DIR/<name>.<conf_type>.table, .scalars; and DIR/lung.csv first.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

# R's lung data (ships with the survival package): time, status 2 = dead
write.csv(data.frame(entry = NA, duration = lung$time, churned = as.integer(lung$status == 2),
                     weight = NA), file.path(dir, "lung.csv"), row.names = FALSE)

# the first time where a curve is below 0.5 (R's minmin without its midpoint
# rule; the midpoint case is flagged separately)
first_below <- function(y, x) {
    tol <- .Machine$double.eps^0.5
    keep <- !is.na(y) & y < 0.5 + tol
    if (!any(keep)) NA else x[keep][1]
}

for (f in list.files(dir, pattern = "\\.csv$")) {
    name <- sub("\\.csv$", "", f)
    d <- read.csv(file.path(dir, f))
    has_entry <- !all(is.na(d$entry))
    has_weight <- !all(is.na(d$weight))
    w <- if (has_weight) d$weight else rep(1, nrow(d))
    # entry 0 means observed from the start, also for a duration of 0,
    # which R's Surv(0, 0, event) refuses (NA): written as -1 where the
    # data have such rows (the same risk sets; elsewhere 0 is R's own form)
    shifted <- has_entry && any(!is.na(d$entry) & d$entry == 0 & d$duration == 0)
    if (shifted)
        d$entry[!is.na(d$entry) & d$entry == 0] <- -1
    for (ct in c("log-log", "log", "plain")) {
        fit <- if (has_entry)
            survfit(Surv(entry, duration, churned) ~ 1, data = d, weights = w,
                    conf.type = ct, robust = FALSE)
        else
            survfit(Surv(duration, churned) ~ 1, data = d, weights = w,
                    conf.type = ct, robust = FALSE)
        s <- summary(fit, censored = TRUE)
        tab <- data.frame(time = num(s$time), n.risk = num(s$n.risk), n.event = num(s$n.event),
                          n.censor = num(s$n.censor), surv = num(s$surv), std.err = num(s$std.err),
                          lower = num(s$lower), upper = num(s$upper), cumhaz = num(s$cumhaz),
                          std.chaz = num(s$std.chaz))
        write.table(tab, file.path(dir, paste0(name, ".", ct, ".table")), row.names = FALSE,
                    quote = FALSE, sep = "\t")
        # the median and its interval as print(fit) shows them, and without
        # the midpoint rule
        tbl <- summary(fit)$table
        out <- c(paste("median.print", num(tbl[["median"]])),
                 paste("lcl.print", num(tbl[["0.95LCL"]])),
                 paste("ucl.print", num(tbl[["0.95UCL"]])),
                 paste("median", num(first_below(fit$surv, fit$time))),
                 paste("lcl", num(first_below(fit$lower, fit$time))),
                 paste("ucl", num(first_below(fit$upper, fit$time))))
        # restricted mean and its standard error, S and H at probe times
        tmax <- max(d$duration)
        for (h in c(0.5, tmax / 3, tmax / 2, tmax, tmax * 1.5)) {
            # the restricted mean runs from age 0: survival 3.8 starts it at
            # fit$t0, the earliest entry (-1 where shifted); 3.5 at
            # fit$start.time if set, else min(0, times)
            fm <- fit
            if (shifted) {
                fm$t0 <- 0
                fm$start.time <- 0
            }
            m <- survival:::survmean(fm, rmean = h)$matrix
            out <- c(out, paste("rmean", num(h), num(m[["rmean"]]), num(m[["se(rmean)"]])))
        }
        probes <- sort(unique(c(0, d$duration, d$duration + 0.25, tmax * 2)))
        ps <- summary(fit, times = probes, extend = TRUE)
        for (i in seq_along(ps$time))
            out <- c(out, paste("at", num(ps$time[i]), num(ps$surv[i]), num(ps$cumhaz[i])))
        writeLines(out, file.path(dir, paste0(name, ".", ct, ".scalars")))
    }
}
