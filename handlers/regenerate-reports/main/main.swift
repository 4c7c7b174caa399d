import BatonHandlerKit
import RegenerateReports

HandlerMain.run(RegenerateReportsHandler())
