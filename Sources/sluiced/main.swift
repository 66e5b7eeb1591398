import Glibc
import SluiceDaemon

exit(SluicedMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
