-- wrk script: a staff login with the benchmark user's password.
wrk.method = "POST"
wrk.body = "grant_type=password&username=bench%40hautes-alpes.example&password=cheval+agrafe+pile+correcte"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
