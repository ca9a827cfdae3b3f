from forecast.cli.main import run

run()
