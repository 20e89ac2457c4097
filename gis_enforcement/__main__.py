from gis_enforcement.cli import main

main()
