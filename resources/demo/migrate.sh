# Demo agent: a data migration with a spinner and a progress bar that crashes with a Python
# traceback and exits with status 1.
. "$(dirname "$0")/effects.sh"

printf '%s$ python tools/migrate.py --from v3 --to v4%s\n' "$BOLD" "$RESET"
printf 'INFO  loading schema v3 (27 tables)\n'
spin 2 'Connecting to the database…'
printf 'INFO  connected to postgres://localhost:5432/demo\n'
printf '%sWARNING%s table "sessions" has 1,204 expired rows; they will be skipped\n' "$YELLOW" "$RESET"
pause 1
progress 'Migrating users    ' 60
pause 1
progress 'Migrating projects ' 40
printf 'Migrating invoices  '
pause 1
printf '\n'
cat <<'TRACE'
Traceback (most recent call last):
  File "/srv/demo/tools/migrate.py", line 212, in <module>
    main(sys.argv[1:])
  File "/srv/demo/tools/migrate.py", line 198, in main
    migrate_table(conn, "invoices", batch_size=args.batch)
  File "/srv/demo/tools/migrate.py", line 141, in migrate_table
    row["customer_id"] = customers[row.pop("user_id")]
                         ~~~~~~~~~^^^^^^^^^^^^^^^^^^^^
KeyError: 'user_id'
TRACE
printf '%sERROR%s migration aborted after 3 of 27 tables; nothing was committed\n' "$RED" "$RESET"
exit 1
