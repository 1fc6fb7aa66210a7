from aerodrome.cli.main import app

app(prog_name="aerodrome")
